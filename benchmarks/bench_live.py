"""Live surveillance in the server: what observing stored events costs, against the bare stream engine.

A simulated day (``orderguard.sim``) is stored in a fresh SQLite file; then, in the same run:

* baseline: the stream engine alone over the same events already in memory (every detector);
* live stage: ``LiveSurveillance.catch_up`` over the store, which pages events out of SQLite in
  (ts, seq) order, builds domain events, observes them and stores the alerts (the server's path).

Printed: events per second (wall) and CPU microseconds per event (this thread), medians of
``--repeat`` runs, plus the load average. The difference is what reading from the store adds.

    .venv/bin/python benchmarks/bench_live.py            # 200,000 events, 3 runs (the recorded run)
    .venv/bin/python benchmarks/bench_live.py --quick    # 20,000 events, 1 run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from orderguard.app import build_app_context  # noqa: E402 - after the path above
from orderguard.config import load_config  # noqa: E402
from orderguard.ingest import EventBatch  # noqa: E402
from orderguard.sim import generate_day, scaled_size, synthetic_firm  # noqa: E402
from orderguard.surveillance.stream import StreamEngine  # noqa: E402

DATE = dt.date(2026, 11, 20)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events, one run")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    events = args.events or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (1 if args.quick else 3)
    size = scaled_size(events)
    firm = synthetic_firm(
        load_config(ROOT / "examples" / "firm.toml"), seed=1, traders=size["traders"], clients=size["clients"]
    )
    firm = firm.model_copy(update={"notifications": firm.notifications.model_copy(update={"log": False})})
    table = generate_day(events=events, seed=7, date=DATE, firm=firm).table
    in_memory = list(EventBatch(table).sorted().iter_events())  # the store's (ts, seq) order
    after_day = int(dt.datetime.combine(DATE + dt.timedelta(days=2), dt.time()).timestamp()) * 10**9
    engine_rows: list[tuple[float, float]] = []
    live_rows: list[tuple[float, float, int]] = []
    for _ in range(repeat):
        engine = StreamEngine(firm)
        wall, cpu = time.perf_counter(), time.thread_time()
        for event in in_memory:
            engine.observe(event)
        engine_rows.append((time.perf_counter() - wall, time.thread_time() - cpu))
        with tempfile.TemporaryDirectory(prefix="og-bench-live-") as tmp:
            ctx = build_app_context(
                firm,
                f"sqlite:///{Path(tmp) / 'live.db'}",
                audit_key=Path(tmp) / "audit.key",
                execute=False,
                clock=lambda: after_day,
                surveillance="live",
            )
            try:
                ctx.events.append_batch(table)
                assert ctx.live is not None
                wall, cpu = time.perf_counter(), time.thread_time()
                observed = ctx.live.catch_up()
                live_rows.append(
                    (time.perf_counter() - wall, time.thread_time() - cpu, ctx.live.alerts_raised)
                )
                assert observed == table.num_rows, (observed, table.num_rows)
            finally:
                ctx.close()
    n = table.num_rows
    print(f"machine: {os.cpu_count()} cores; {n:,} simulated events; median of {repeat} run(s)\n")
    print("| path | events/s | CPU us/event | alerts | load |")
    print("|---|---:|---:|---:|---:|")
    wall = statistics.median(r[0] for r in engine_rows)
    cpu = statistics.median(r[1] for r in engine_rows)
    baseline = "baseline: stream engine over events in memory"
    print(f"| {baseline} | {n / wall:,.0f} | {cpu / n * 1e6:.1f} | | {load_average()} |")
    wall = statistics.median(r[0] for r in live_rows)
    cpu = statistics.median(r[1] for r in live_rows)
    print(
        f"| live stage: SQLite store -> stream engine -> case desk | {n / wall:,.0f} | {cpu / n * 1e6:.1f} "
        f"| {live_rows[-1][2]:,} | {load_average()} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
