"""The execution leg of the order path in process: ``ExecutionPath.execute`` as the order desk calls it.

Two configurations in the same run: "per order" (``max_combined=1, sessions=False``: one
Ed25519 signature, one attestation and a single-shot HPKE seal per order, v1 drop copies; the
path as session 1 left it) and "combined" (the default: concurrent orders signed and attested
together, envelope and drop copy v2 under session keys, one audit commit per batch). Each runs
on one thread with an in-memory audit sink (pure CPU per order) and on 32 threads with the
durable SQLite audit log (what the order desk sees under load). CPU per order is the process's
CPU time (all threads, the audit sequencer and SQLite included) divided by orders.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, Decision, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import MAX_COMBINED, ExecutionPath

START_NS = 1_763_740_800_000_000_000  # 2025-11-21T16:00:00Z
ALLOW = Decision.allow("controls passed", ("policy.default",))
ACCOUNTS = ("C-PENSION-1", "C-HEDGE-1", "C-HEDGE-2")
# name -> (max_combined, sessions)
CONFIGS = {"per order (session-1 path)": (1, False), "combined": (MAX_COMBINED, True)}


class CountingSink:
    """In-memory audit sink (``append`` and ``append_many``): isolates the leg's own CPU."""

    def __init__(self) -> None:
        self.size = 0

    def append(self, entry: AuditEntry) -> int:  # noqa: ARG002 - counted, not kept
        self.size += 1
        return self.size - 1

    def append_many(self, entries: list[AuditEntry]) -> list[int]:
        first, self.size = self.size, self.size + len(entries)
        return list(range(first, self.size))


@dataclass
class LegRun:
    orders: int
    seconds: float
    cpu_s: float
    latencies_us: list[float]
    batches: int

    @property
    def rate(self) -> float:
        return self.orders / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.orders * 1e6


def run_leg(firm: FirmConfig, config: tuple[int, bool], threads: int, seconds: float, tmp: Path) -> LegRun:
    """Execute small orders from ``threads`` threads for ``seconds``; durable audit when threads > 1."""
    if threads > 1:
        url = f"sqlite:///{tmp / f'leg-{time.monotonic_ns()}.db'}"
        upgrade(url)
        audit: AuditLog | CountingSink = AuditLog(url)
    else:
        audit = CountingSink()
    path = ExecutionPath(firm, audit, max_combined=config[0], sessions=config[1])
    started_ns = time.monotonic_ns()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    stop_at = time.monotonic() + seconds

    def worker(w: int) -> int:
        n, mine, clock = 0, latencies[w], time.perf_counter_ns
        while time.monotonic() < stop_at:
            n += 1
            ts = START_NS + time.monotonic_ns() - started_ns
            ticket = OrderTicket(
                f"L{w:03d}-{n:07d}", "alice", ACCOUNTS[n % 3], "AAPL", Side.BUY, 10, 190.5, "XNYS", ts
            )
            began = clock()
            result = path.execute(ticket, ALLOW)
            mine.append((clock() - began) / 1000)
            if not result.accepted:
                raise RuntimeError(f"order refused: {result.decision}")
        return n

    cpu0, wall0 = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(worker, range(threads)))
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    if isinstance(audit, AuditLog):
        audit.close()
    return LegRun(done, wall, cpu, [x for mine in latencies for x in mine], path.combiner.batches)


def leg_rows(firm: FirmConfig, seconds: float, rounds: int) -> list[str]:
    """Markdown rows: per configuration and thread count, medians over ``rounds`` interleaved runs."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="og-bench-leg-") as tmp:
        for threads in (1, 32):
            runs: dict[str, list[LegRun]] = {name: [] for name in CONFIGS}
            for _ in range(rounds):
                for name, config in CONFIGS.items():
                    runs[name].append(run_leg(firm, config, threads, seconds, Path(tmp)))
            for name, done in runs.items():
                latencies = sorted(x for run in done for x in run.latencies_us)
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                audit = "durable SQLite audit" if threads > 1 else "in-memory audit"
                per_batch = sum(r.orders for r in done) / max(1, sum(r.batches for r in done))
                rows.append(
                    f"| {name}, {threads} thread{'s' if threads > 1 else ''}, {audit} | "
                    f"{statistics.median(r.rate for r in done):,.0f} | "
                    f"{statistics.median(r.cpu_us for r in done):,.0f} | "
                    f"{statistics.median(latencies):,.0f} | {p99:,.0f} | {per_batch:.1f} |"
                )
    return rows
