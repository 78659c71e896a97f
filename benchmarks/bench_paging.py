"""Alert and case lists with a year of alerts: ``GET /api/v1/alerts?limit=50`` and the case list,
this tree (paged in SQL) against a baseline tree (e.g. the last commit, paged in memory), same run.

Run: .venv/bin/python benchmarks/bench_paging.py [--alerts 100000] [--requests 30] [--base-requests 10]
     [--quick] [--base /tmp/base-sqlpaging] [--no-postgres]
Make the baseline first: ``git archive HEAD | tar -x -C /tmp/base-sqlpaging`` (no baseline: this
tree alone). Each (tree, backend) gets a fresh database filled by one process with ``--alerts``
alerts (about 10% open, 12 subjects, a case per subject and month), then a second, fresh process
builds the real app context (firm file, audit log) and times in-process HTTP requests as
compliance officer carol: the first page of the queue, the first page under a subject filter, a
later page (cursor from the first), the page at the middle of the year, the first page of the
case list, and the web alert queue (the full page with its case list, an htmx swap of page 3).
Latency p50/p99 in ms; peak memory is that process's high-water RSS (``ru_maxrss``), minus what it
held before the first request (the app itself) in the last column. The baseline, which reads
every alert per request, is timed ``--base-requests`` times per route.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_763_650_000_000_000_000
YEAR_NS = 365 * 86_400 * 1_000_000_000
SUBJECTS = ("alice", "bob", "tom", "dana", "ana", "dave", "erin", "frank", "gina", "hank", "ivan", "carol")
RULES = ("front_running", "data_exfiltration", "wash_trade", "query_volume", "off_hours_login")


def fill(src: str, url: str, alerts: int) -> None:
    """Child: migrate ``url`` with the tree at ``src`` and bulk-insert the alerts and cases."""
    sys.path.insert(0, src)
    from sqlalchemy import insert

    from orderguard.storage import make_engine
    from orderguard.storage.cases_tables import case_alerts, cases
    from orderguard.storage.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(7)
    months = 12
    case_rows = [
        {
            "case_id": f"case-{subject}-{month:02d}",
            "subject": subject,
            "status": "open" if month == months - 1 else "closed",
            "assignee": None,
            "opened_ns": T0 + month * (YEAR_NS // months),
            "closed_ns": None,
            "disposition": None,
        }
        for subject in SUBJECTS
        for month in range(months)
    ]
    with engine.begin() as conn:
        conn.execute(insert(cases), case_rows)
        batch: list[dict[str, object]] = []
        for n in range(alerts):
            ts = T0 + n * (YEAR_NS // alerts)
            subject = SUBJECTS[rng.randrange(len(SUBJECTS))]
            month = min(months - 1, n * months // alerts)
            batch.append(
                {
                    "alert_id": f"al-{n:08d}",
                    "rule": RULES[n % len(RULES)],
                    "severity": ("high", "medium", "low")[n % 3],
                    "actor": subject,
                    "symbol": "AAPL",
                    "ts_ns": ts,
                    "event_ids": json.dumps([f"ev-{n}", f"ev-{n}-b"]),
                    "explanation": f"{subject} did something worth a look ({n})",
                    "action": "alert",
                    "queues": "compliance",
                    "status": "new" if n >= alerts * 0.9 else "closed",
                    "disposition": None,
                    "case_id": f"case-{subject}-{month:02d}",
                    "received_ns": ts,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(case_alerts), batch)
                batch = []
        if batch:
            conn.execute(insert(case_alerts), batch)
    engine.dispose()


def measure(src: str, url: str, workdir: str, requests: int, alerts: int) -> None:
    """Child: time the list routes in-process; print one JSON line of results."""
    sys.path.insert(0, src)
    import resource
    import time

    from fastapi.testclient import TestClient

    import orderguard
    from orderguard.api import create_app
    from orderguard.app import build_app_context

    assert orderguard.__file__.startswith(src), orderguard.__file__
    firm = Path(src).parent / "examples" / "firm.toml"  # each tree with its own firm file
    ctx = build_app_context(firm, url, audit_key=Path(workdir) / "audit.key")
    headers = {"Authorization": f"Bearer {ctx.tokens.issue('carol', 'bench')}"}
    results: dict[str, object] = {}
    with TestClient(create_app(ctx)) as client:
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        first = client.get("/api/v1/alerts", params={"limit": 50}, headers=headers)
        assert first.status_code == 200, first.text
        cursor = first.headers["x-next-cursor"]
        middle = _middle_cursor(cursor, alerts)
        routes: dict[str, tuple[str, dict[str, str | int]]] = {
            "alerts, first page": ("/api/v1/alerts", {"limit": 50}),
            "alerts, subject=bob": ("/api/v1/alerts", {"limit": 50, "subject": "bob"}),
            "alerts, second page (cursor)": ("/api/v1/alerts", {"limit": 50, "cursor": cursor}),
            "alerts, page at the middle (cursor)": ("/api/v1/alerts", {"limit": 50, "cursor": middle}),
            "cases, first page": ("/api/v1/cases", {"limit": 50}),
            "web queue /alerts, page 1": ("/alerts", {}),
            "web queue, htmx page 3": ("/alerts", {"page": 3, "hx": "1"}),
        }
        ctx.sessions.set_password("carol", "bench password 1")
        login = client.post("/login", data={"username": "carol", "password": "bench password 1"})
        assert login.status_code in (200, 303), login.text
        for name, (path, params) in routes.items():
            times: list[float] = []
            for _ in range(requests):
                start = time.perf_counter()
                if path.startswith("/api/"):
                    answer = client.get(path, params=params, headers=headers)
                else:  # the web page with carol's session cookie; "hx" asks for the htmx table swap
                    web = {k: v for k, v in params.items() if k != "hx"}
                    answer = client.get(
                        path, params=web, headers={"hx-request": "true"} if "hx" in params else {}
                    )
                times.append((time.perf_counter() - start) * 1e3)
                assert answer.status_code == 200, answer.text
                assert len(answer.json() if path.startswith("/api/") else answer.text) > 0
            results[name] = times
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ctx.close()
    print(json.dumps({"latencies": results, "peak_kb": peak, "before_kb": base_rss}))


def _middle_cursor(cursor: str, alerts: int) -> str:
    """The first page's cursor moved to the middle alert of the fill (either tree's cursor layout:
    the baseline's ``[-ts, id]``, this tree's ``[scope, ts, id]``)."""
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    n = alerts // 2
    ts = T0 + n * (YEAR_NS // alerts)
    raw[-2:] = [-ts if raw[-2] < 0 else ts, f"al-{n:08d}"]
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _child(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} {args[1]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


@contextmanager
def databases(tmp: Path, with_postgres: bool, with_sqlite: bool) -> Iterator[list[tuple[str, object]]]:
    counter = iter(range(1000))

    def sqlite_url() -> str:
        return f"sqlite:///{tmp}/paging-{next(counter)}.db"

    sqlite: list[tuple[str, object]] = [("SQLite", sqlite_url)] if with_sqlite else []
    if not with_postgres:
        yield sqlite
        return
    sys.path.insert(0, str(ROOT))
    from tests.pg import start_cluster

    pg_dir = tmp / "pg"
    pg_dir.mkdir()
    with start_cluster(pg_dir) as cluster:
        yield [*sqlite, ("PostgreSQL", cluster.new_database)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--base", default="/tmp/base-sqlpaging", help="baseline tree (skipped if absent)")
    parser.add_argument("--base-requests", type=int, default=10, help="per route on the (slow) baseline")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--quick", action="store_true", help="5,000 alerts, 5 requests: a smoke run")
    parser.add_argument("--fill", nargs=3, metavar=("SRC", "URL", "ALERTS"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--measure", nargs=5, metavar=("SRC", "URL", "DIR", "N", "ALERTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.fill:
        fill(args.fill[0], args.fill[1], int(args.fill[2]))
        return
    if args.measure:
        measure(args.measure[0], args.measure[1], args.measure[2], int(args.measure[3]), int(args.measure[4]))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still stops its PostgreSQL
    if args.quick:
        args.alerts, args.requests = 5_000, 5
    trees = [("this tree", str(ROOT / "src"))]
    if (Path(args.base) / "src" / "orderguard").is_dir():
        trees.insert(0, ("baseline", str(Path(args.base) / "src")))
    print(
        f"alerts {args.alerts:,}, {args.requests} requests per route; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs\n"
    )
    print("| backend | tree | request | n | p50 ms | p99 ms | peak RSS MB | RSS growth MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    with (
        tempfile.TemporaryDirectory(prefix="bench-paging-") as tmp,
        databases(Path(tmp), not args.no_postgres, not args.no_sqlite) as dbs,
    ):
        for backend, new_url in dbs:
            for tree, src in trees:
                url = new_url()  # type: ignore[operator]
                _child("--fill", src, url, str(args.alerts))
                workdir = Path(tmp) / f"{backend}-{tree}".replace(" ", "-")
                workdir.mkdir()
                count = args.requests if tree == "this tree" else min(args.requests, args.base_requests)
                found = json.loads(
                    _child("--measure", src, url, str(workdir), str(count), str(args.alerts)).splitlines()[-1]
                )
                peak, grown = found["peak_kb"] / 1024, (found["peak_kb"] - found["before_kb"]) / 1024
                for name, times in found["latencies"].items():
                    print(
                        f"| {backend} | {tree} | {name} | {len(times)} | {statistics.median(times):.1f} | "
                        f"{percentile(times, 0.99):.1f} | {peak:.0f} | {grown:.0f} |"
                    )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
