"""Sustained order entry through the HTTP API: throughput, latency, and nothing lost or duplicated.

Starts ``orderguard serve`` on 127.0.0.1 in a subprocess (fresh SQLite file, clock pinned inside
business hours), then runs concurrent keep-alive clients entering small client orders, each with
a unique order id, for a bounded time AND a bounded count. The clients are ``wrk`` (one thread,
``benchmarks/bench_api.lua``) when it is installed (``apt-get install wrk``): a C load generator
leaves the server most of the 2 cores. Otherwise (or with ``--client python``) a minimal raw
HTTP/1.1 client on uvloop. A bare ``GET /health`` run on the same server code is the baseline:
what HTTP alone costs on this machine. Afterwards it reads the audit log back: every order id the
API answered "accepted" must be audited exactly once as created, and nothing else.

The sealed rows run twice: with the execution connector in the server's own process
(``--connector in-process``) and in its own process (``--connector process``, the default of
``serve``; ``--connector`` here picks one or both).

Every HTTP row also reports the CPU per order of the server and of its connector child (from
/proc). ``--base DIR`` runs each HTTP order row first on another tree (e.g. ``git archive HEAD``
unpacked there): its ``src`` is put first on the server's path, this venv runs it.

    .venv/bin/python benchmarks/bench_api.py            # 60 s per row (the recorded run)
    .venv/bin/python benchmarks/bench_api.py --quick    # 5 s smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "bench_api.lua"
SIM_CLOCK = "2026-11-20T16:00:00Z"  # 11:00 in New York on a Friday: business hours
ACCOUNTS = ("C-PENSION-1", "C-HEDGE-1", "C-HEDGE-2")


def run_loop(main: Coroutine[object, object, None]) -> None:
    """Run ``main`` on uvloop when it is installed (less client CPU), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: str,
    port: int,
    *,
    execute: bool,
    connector: str = "process",
    surveillance: str = "off",
    root: Path = ROOT,
) -> tuple[subprocess.Popen[str], str]:
    """``orderguard serve`` of the tree at ``root`` (its ``src`` first on the path; this tree's venv)."""
    command = [
        str(ROOT / ".venv" / "bin" / "orderguard"),
        "serve",
        "--config",
        str(root / "examples" / "firm.toml"),
        "--db",
        db,
        "--port",
        str(port),
        "--sim-clock",
        SIM_CLOCK,
        "--issue-token",
        "alice",
        "--connector",
        connector,
        "--surveillance",  # off unless a row asks for live: the rows stay comparable with earlier runs
        surveillance,
    ]
    if "--surveillance" not in (root / "src" / "orderguard" / "cli" / "demo.py").read_text():
        del command[-2:]  # a base tree from before live surveillance (--base): it has none to turn off
    if not execute:
        command.append("--no-execute")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # that tree's code, not the venv's editable install
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert server.stdout is not None
    line = server.stdout.readline().split()
    token = line[2]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, token
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within 30 s")


@dataclass
class Tally:
    """What the clients saw, shared by all of them (one event loop: no locks needed)."""

    budget: int
    stop_at: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client on one connection.

    httpx spends ~0.5 ms of CPU per request; on a 2-core machine the load generator would then take
    most of the CPU the server needs. This client writes the request bytes and reads the status
    line, headers and Content-Length body, nothing more (the server is ours and well-behaved).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str) -> None:
        self.reader, self.writer = reader, writer
        self.prefix = (
            "POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()

    async def post_order(self, body: bytes) -> tuple[int, bytes]:
        self.writer.write(self.prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return await self._response()

    async def get_health(self) -> tuple[int, bytes]:
        self.writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return await self._response()

    async def _response(self) -> tuple[int, bytes]:
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


async def client(port: int, token: str, worker: int, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = RawHttpClient(reader, writer, token)
    n = 0
    while time.monotonic() < tally.stop_at and tally.budget > 0:
        tally.budget -= 1
        n += 1
        order_id = f"B{worker:03d}-{n:07d}"
        body = {
            "order_id": order_id,
            "account": ACCOUNTS[n % 3],
            "symbol": "AAPL",
            "side": "buy",
            "qty": 10,
            "price": 190.5,
            "venue": "XNYS",
        }
        started = time.perf_counter()
        status, payload = await http.post_order(json.dumps(body).encode())
        tally.latencies.append(time.perf_counter() - started)
        if status != 200:
            tally.outcomes[f"http {status}"] += 1
            continue
        result = json.loads(payload)
        tally.outcomes["accepted" if result["accepted"] else result["decision"]["reason_code"]] += 1
        if result["accepted"]:
            tally.accepted.append(order_id)
    writer.close()


async def health_client(port: int, tally: Tally) -> None:
    """The baseline: a bare ``GET /health`` (no auth, no body, no controls) on the same server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = RawHttpClient(reader, writer, "")
    while time.monotonic() < tally.stop_at and tally.budget > 0:
        tally.budget -= 1
        started = time.perf_counter()
        status, _ = await http.get_health()
        tally.latencies.append(time.perf_counter() - started)
        tally.outcomes[f"http {status}"] += 1
    writer.close()


@dataclass
class RunResult:
    orders: int
    accepted: int
    throughput: float
    p50_ms: float
    p99_ms: float
    audited: int
    lost: int
    duplicated: int
    outcomes: dict[str, int]
    in_flight: int = 0  # audited, sent, but not answered before the generator stopped
    phantoms: int = 0  # audited as accepted but never sent: must be 0
    cpu_ms: tuple[float, ...] = ()  # CPU (user + system) per answered order: server, then its children


def audited_acceptances(db_path: Path) -> Counter[str]:
    from orderguard.audit.encoding import decode_leaf
    from orderguard.audit.store import AuditStore
    from orderguard.storage import make_engine

    engine = make_engine(f"sqlite:///{db_path}")
    counts: Counter[str] = Counter()
    for _idx, _hash, leaf, _salt, _payload in AuditStore(engine).iter_entries():
        header = decode_leaf(leaf).header
        if header["kind"] == "order" and header["action"] == "created":
            counts[str(header["object_id"])] += 1
    engine.dispose()
    return counts


@dataclass
class Load:
    """What the clients saw: requests answered, accepted order ids, latencies and refusals."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    accepted: list[str]
    outcomes: dict[str, int]
    sent: set[str] | None = None  # every order id sent, when the generator keeps count (wrk)


def python_load(port: int, token: str, seconds: float, clients: int, budget: int, *, orders: bool) -> Load:
    """Load from the raw Python client, in this process."""
    started = time.monotonic()
    tally = Tally(budget=budget, stop_at=started + seconds)

    async def main() -> None:
        if orders:
            await asyncio.gather(*(client(port, token, w, tally) for w in range(clients)))
        else:
            await asyncio.gather(*(health_client(port, tally) for _ in range(clients)))

    run_loop(main())
    elapsed = time.monotonic() - started
    ordered = sorted(tally.latencies)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    p50 = statistics.median(ordered)
    return Load(len(ordered), elapsed, 1000 * p50, 1000 * p99, tally.accepted, dict(tally.outcomes))


def wrk_load(port: int, token: str, seconds: float, clients: int, budget: int, *, orders: bool) -> Load:
    """Load from ``wrk`` (one thread, ``clients`` connections) driven by ``bench_api.lua``."""
    with tempfile.TemporaryDirectory(prefix="og-bench-wrk-") as out:
        command = [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            f"http://127.0.0.1:{port}",
            "--",
            "orders" if orders else "health",
            token or "-",
            out,
            str(budget),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        result = json.loads(line.removeprefix("RESULT "))
        accepted = [i for f in sorted(Path(out).glob("accepted-*.txt")) for i in f.read_text().split()]
    outcomes = {"accepted": result["accepted"], "refused": result["refused"]}
    outcomes |= {"http non-2xx": result["non_2xx"], "socket errors": result["socket_errors"]}
    # In order mode a thread past its budget sends GET /health: count the orders only.
    answered = result["accepted"] + result["refused"] + result["non_2xx"] if orders else result["requests"]
    sent = {f"W{thread}-{n}" for thread, count in result["sent"].items() for n in range(1, count + 1)}
    return Load(
        answered,
        result["duration_us"] / 1e6,
        result["p50_us"] / 1000,
        result["p99_us"] / 1000,
        accepted,
        {k: v for k, v in outcomes.items() if v},
        sent,
    )


def run(
    seconds: float,
    clients: int,
    max_orders: int,
    *,
    execute: bool,
    use_wrk: bool,
    connector: str = "process",
    surveillance: str = "off",
    root: Path = ROOT,
) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="og-bench-api-") as tmp:
        db_path = Path(tmp) / "bench.db"
        port = free_port()
        server, token = start_server(
            f"sqlite:///{db_path}",
            port,
            execute=execute,
            connector=connector,
            surveillance=surveillance,
            root=root,
        )
        try:
            pids = [
                server.pid,
                *map(int, Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()),
            ]
            cpu_before = [process_cpu_s(pid) for pid in pids]
            load = (wrk_load if use_wrk else python_load)(
                port, token, seconds, clients, max_orders, orders=True
            )
            cpu = [process_cpu_s(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        finally:
            server.terminate()
            server.wait(timeout=30)
        audited = audited_acceptances(db_path)
    # wrk stops at its deadline without reading the answers in flight: those orders may be audited
    # as accepted although the client never heard so. They must be orders it sent, at most one per
    # connection; any other audited order is a phantom.
    unanswered = set(audited) - set(load.accepted)
    phantoms = unanswered - load.sent if load.sent is not None else unanswered
    return RunResult(
        orders=load.requests,
        accepted=len(load.accepted),
        throughput=load.requests / load.seconds,
        p50_ms=load.p50_ms,
        p99_ms=load.p99_ms,
        audited=sum(audited.values()),
        lost=len(set(load.accepted) - set(audited)),
        duplicated=sum(1 for n in audited.values() if n > 1) + len(load.accepted) - len(set(load.accepted)),
        outcomes=load.outcomes,
        in_flight=len(unanswered) - len(phantoms),
        phantoms=len(phantoms),
        cpu_ms=tuple(1e3 * c / max(1, load.requests) for c in cpu),
    )


def run_health(seconds: float, clients: int, *, use_wrk: bool) -> Load:
    """``GET /health`` against a fresh server: the baseline."""
    with tempfile.TemporaryDirectory(prefix="og-bench-api-") as tmp:
        port = free_port()
        server, _ = start_server(f"sqlite:///{Path(tmp) / 'bench.db'}", port, execute=False)
        try:
            return (wrk_load if use_wrk else python_load)(port, "", seconds, clients, 10**9, orders=False)
        finally:
            server.terminate()
            server.wait(timeout=30)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


@dataclass
class InProcess:
    orders: int
    rate: float
    cpu_ms: float  # this process's CPU (user + system) per order
    connector_cpu_ms: float | None  # the connector process's, when there is one
    batch: float | None  # orders per combined execution batch


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(seconds: float, threads: int, *, execute: bool, connector: str = "process") -> InProcess:
    """The same order path without HTTP (OrderDesk from threads): the ceiling the API adds to."""
    import resource
    from concurrent.futures import ThreadPoolExecutor

    from orderguard.app import build_app_context, shifted_clock
    from orderguard.domain import Side, parse_ts
    from orderguard.gateway.orders import OrderTicket

    with tempfile.TemporaryDirectory(prefix="og-bench-api-") as tmp:
        ctx = build_app_context(
            ROOT / "examples" / "firm.toml",
            f"sqlite:///{Path(tmp) / 'bench.db'}",
            audit_key=Path(tmp) / "key",
            execute=execute,
            clock=shifted_clock(parse_ts(SIM_CLOCK)),
            connector="process" if connector == "process" else "in-process",
        )
        stop_at = time.monotonic() + seconds

        def worker(w: int) -> int:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                ticket = OrderTicket(
                    f"P{w:03d}-{n:07d}",
                    "alice",
                    ACCOUNTS[n % 3],
                    "AAPL",
                    Side.BUY,
                    10,
                    190.5,
                    "XNYS",
                    ctx.clock(),
                )
                ctx.orders.submit(ticket)
            return n

        child = ctx.execution.connector_process if ctx.execution is not None else None
        child_before = process_cpu_s(child.pid) if child is not None else 0.0
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            done = sum(pool.map(worker, range(threads)))
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        child_cpu = process_cpu_s(child.pid) - child_before if child is not None else None
        combiner = ctx.execution.combiner if ctx.execution is not None else None
        ctx.close()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return InProcess(
        done,
        done / elapsed,
        cpu / done * 1e3,
        child_cpu / done * 1e3 if child_cpu is not None else None,
        combiner.items / combiner.batches if combiner is not None and combiner.batches else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per run instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-orders", type=int, default=1_000_000)
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the raw Python client",
    )
    parser.add_argument("--no-in-process", action="store_true", help="skip the rows without HTTP")
    parser.add_argument(
        "--connector",
        choices=("both", "process", "in-process"),
        default="both",
        help="where the sealed rows run the execution connector: its own process, the server's, or both",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the GET /health row")
    parser.add_argument(
        "--live",
        choices=("both", "off", "only"),
        default="both",
        help="gate + audit with `serve --surveillance live` as well (both), not (off), or only that pair",
    )
    parser.add_argument(
        "--base",
        type=Path,
        default=None,
        help="another tree (e.g. `git archive HEAD` unpacked): each HTTP order row runs on it, then here",
    )
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 60.0)
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    sys.path.insert(0, str(ROOT / "src"))
    generator = "wrk -t1 (bench_api.lua)" if use_wrk else "raw Python client on uvloop"
    print(f"machine: {os.cpu_count()} cores; {seconds:g} s per run, {args.clients} concurrent clients")
    print(f"load generator: {generator}\n")
    print("| path | orders | accepted | orders/s | p50 ms | p99 ms | audited | lost | duplicated | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = False
    if not args.no_baseline:
        health = run_health(seconds, args.clients, use_wrk=use_wrk)
        print(
            f"| baseline: bare `GET /health` | {health.requests:,} | | "
            f"{health.requests / health.seconds:,.0f} | "
            f"{health.p50_ms:.1f} | {health.p99_ms:.1f} | | | | {load_average()} |"
        )
    connectors = ("in-process", "process") if args.connector == "both" else (args.connector,)
    rows = [(False, "process"), *((True, c) for c in connectors)]
    # Live surveillance on vs off, same run: the gate + audit row again with the stream engine reading
    # every stored order event in its own thread of the server process.
    live_rows = [(False, "process", "live")] if args.live != "off" else []
    http_rows = [(e, c, "off") for e, c in rows] if args.live != "only" else [(False, "process", "off")]
    http_rows[1:1] = live_rows
    trees = [(args.base.resolve(), "base: "), (ROOT, "this code: ")] if args.base else [(ROOT, "")]
    cpu_notes = []
    for (execute, connector, surveillance), (root, label) in itertools.product(http_rows, trees):
        r = run(
            seconds,
            args.clients,
            args.max_orders,
            execute=execute,
            use_wrk=use_wrk,
            connector=connector,
            surveillance=surveillance,
            root=root,
        )
        path = f"gate + audit + sealed execution, connector {connector}" if execute else "gate + audit"
        path = label + path + (", live surveillance on" if surveillance == "live" else "")
        print(
            f"| {path} | {r.orders:,} | {r.accepted:,} | {r.throughput:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.audited:,} | {r.lost} | {r.duplicated} | {load_average()} |"
        )
        server_cpu = f"{r.cpu_ms[0]:.3f}" if r.cpu_ms else ""
        child_cpu = f"{sum(r.cpu_ms[1:]):.3f}" if len(r.cpu_ms) > 1 else ""
        cpu_notes.append(f"| {path} | {server_cpu} | {child_cpu} |")
        failed |= bool(r.lost or r.duplicated or r.phantoms) or r.audited != r.accepted + r.in_flight
        failed |= r.in_flight > args.clients
        if set(r.outcomes) - {"accepted"}:
            print(f"  refusals/errors: {r.outcomes}")
        if r.in_flight or r.phantoms:
            print(
                f"  in flight at the stop (audited, answer not read): {r.in_flight}; phantoms: {r.phantoms}"
            )
    cpu_rows = []
    for execute, connector in () if args.no_in_process or args.live == "only" else rows:
        r2 = in_process(seconds, args.clients, execute=execute, connector=connector)
        path = f"gate + audit + sealed execution, connector {connector}" if execute else "gate + audit"
        print(
            f"| {path}, in process, no HTTP ({args.clients} threads) | {r2.orders:,} | | {r2.rate:,.0f} "
            f"| | | | | | {load_average()} |"
        )
        cpu_rows.append((path, r2))
    print("\nCPU per order through HTTP (user + system, server process and its connector child):\n")
    print("| path | server ms/order | connector process ms/order |")
    print("|---|---:|---:|")
    print("\n".join(cpu_notes))
    if cpu_rows:
        print("\nCPU per order of the rows without HTTP (user + system):\n")
        print("| path | API process ms/order | connector process ms/order | orders per batch |")
        print("|---|---:|---:|---:|")
        for path, r2 in cpu_rows:
            child = f"{r2.connector_cpu_ms:.3f}" if r2.connector_cpu_ms is not None else ""
            batch = f"{r2.batch:.1f}" if r2.batch is not None else ""
            print(f"| {path} | {r2.cpu_ms:.3f} | {child} | {batch} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
