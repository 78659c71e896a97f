"""What moving the desk signing keys out of the API process costs per order on the sealed path.

``.venv/bin/python benchmarks/bench_desk_keys.py`` (the run to record; ``--quick`` for a smoke run).
The execution leg as ``serve`` runs it (connector in its own process), with the desk's order-signing
keys in the API process (``desk_keys="in-process"``, the session-3 path and the baseline) or in the
desk signer process (``desk_keys="signer"``), interleaved in the same run: 1 thread with an
in-memory audit sink (pure CPU per order), and 32 threads with the durable SQLite audit log (the
order desk under load). CPU per order is given for the API process (all its threads) and for the
children (connector, signer) from /proc, so the move of work between processes shows.

``--orders-only MODE N`` executes 50 + N orders on one thread and stops, for instruction counts of
the API process alone under callgrind (children run natively): run N = 0 and N = 400 and divide the
difference by 400 (docs/benchmarks.md gives the command).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.execution_leg import ACCOUNTS, ALLOW, START_NS, CountingSink
from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig, load_config
from orderguard.domain import Side
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import DeskKeysMode, ExecutionPath

FIRM = Path(__file__).resolve().parent.parent / "examples" / "firm.toml"
MODES: tuple[DeskKeysMode, ...] = ("in-process", "signer")
TICKS = os.sysconf("SC_CLK_TCK")


def child_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Run:
    orders: int
    seconds: float
    api_cpu_s: float
    child_cpu_s: float
    latencies_us: list[float]

    def per_order_us(self, cpu_s: float) -> float:
        return cpu_s / self.orders * 1e6


def run(firm: FirmConfig, mode: DeskKeysMode, threads: int, seconds: float, tmp: Path) -> Run:
    if threads > 1:
        url = f"sqlite:///{tmp / f'keys-{time.monotonic_ns()}.db'}"
        upgrade(url)
        audit: AuditLog | CountingSink = AuditLog(url)
    else:
        audit = CountingSink()
    path = ExecutionPath(firm, audit, connector="process", firm_path=FIRM, desk_keys=mode)
    children = [p.pid for p in (path.connector_process, path._signer) if p is not None]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    started_ns = time.monotonic_ns()
    stop_at = time.monotonic() + seconds

    def worker(w: int) -> int:
        n, mine, clock = 0, latencies[w], time.perf_counter_ns
        while time.monotonic() < stop_at:
            n += 1
            ts = START_NS + time.monotonic_ns() - started_ns
            ticket = OrderTicket(
                f"K{w:03d}-{n:07d}", "alice", ACCOUNTS[n % 3], "AAPL", Side.BUY, 10, 190.5, "XNYS", ts
            )
            began = clock()
            result = path.execute(ticket, ALLOW)
            mine.append((clock() - began) / 1000)
            if not result.accepted:
                raise RuntimeError(f"order refused: {result.decision}")
        return n

    child0 = sum(child_cpu_s(pid) for pid in children)
    cpu0, wall0 = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(worker, range(threads)))
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    child = sum(child_cpu_s(pid) for pid in children) - child0
    path.close()
    if isinstance(audit, AuditLog):
        audit.close()
    return Run(done, wall, cpu, child, [x for mine in latencies for x in mine])


def orders_only(mode: str, count: int) -> None:
    """Execute 50 + ``count`` small orders on one thread (for callgrind: no clocks, no threads)."""
    if mode not in MODES:
        raise SystemExit(f"--orders-only: MODE is one of {', '.join(MODES)}, not {mode!r}")
    desk_keys: DeskKeysMode = "signer" if mode == "signer" else "in-process"
    path = ExecutionPath(
        load_config(FIRM), CountingSink(), connector="process", firm_path=FIRM, desk_keys=desk_keys,
        reply_timeout_s=300,
    )  # fmt: skip
    for n in range(50 + count):
        ticket = OrderTicket(
            f"C{n:07d}", "alice", ACCOUNTS[n % 3], "AAPL", Side.BUY, 10, 190.5, "XNYS", START_NS + n
        )
        if not path.execute(ticket, ALLOW).accepted:
            raise RuntimeError(f"order {n} refused")
    path.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s per run, 1 round")
    parser.add_argument("--orders-only", nargs=2, metavar=("MODE", "N"), help="50 + N orders, no timing")
    args = parser.parse_args()
    if args.orders_only:
        orders_only(args.orders_only[0], int(args.orders_only[1]))
        return
    seconds, rounds = (1.0, 1) if args.quick else (5.0, 3)
    firm = load_config(FIRM)
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}", file=sys.stderr)
    print(
        "| desk keys, threads, audit | orders/s | API CPU µs/order | child CPU µs/order | p50 µs | p99 µs |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="og-bench-keys-") as tmp:
        for threads in (1, 32):
            runs: dict[DeskKeysMode, list[Run]] = {mode: [] for mode in MODES}
            for _ in range(rounds):
                for mode in MODES:
                    runs[mode].append(run(firm, mode, threads, seconds, Path(tmp)))
            for mode, done in runs.items():
                latencies = sorted(x for r in done for x in r.latencies_us)
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                audit = "durable SQLite audit" if threads > 1 else "in-memory audit"
                print(
                    f"| {mode}, {threads} thread{'s' if threads > 1 else ''}, {audit} | "
                    f"{statistics.median(r.orders / r.seconds for r in done):,.0f} | "
                    f"{statistics.median(r.per_order_us(r.api_cpu_s) for r in done):,.0f} | "
                    f"{statistics.median(r.per_order_us(r.child_cpu_s) for r in done):,.0f} | "
                    f"{statistics.median(latencies):,.0f} | {p99:,.0f} |",
                    flush=True,
                )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}", file=sys.stderr)


if __name__ == "__main__":
    main()
