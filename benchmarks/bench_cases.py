"""Cases stage: alert ingestion (stored + audited + routed) and the order-path response checks.

Run: .venv/bin/python benchmarks/bench_cases.py [--alerts 2000] [--repeat 3] [--quick]
SQLite file in a temporary directory (WAL, synchronous=FULL) with the real audit log. The
baseline for ingestion is the bare audit append of one entry per alert (what ingestion must
do at least); the baseline for the checks is a Python set lookup.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orderguard.audit.log import AuditLog
from orderguard.cases.model import BlockedPattern
from orderguard.cases.responses import SYSTEM_ACTOR
from orderguard.cases.stack import build_cases
from orderguard.config import load_config
from orderguard.domain import AuditAction, AuditEntry
from orderguard.domain.alerts import Alert
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade

FIRM = Path(__file__).resolve().parent.parent / "examples" / "firm.toml"
T0 = 1_795_186_800_000_000_000


def _alerts(count: int, tag: str) -> list[Alert]:
    actors = ("alice", "bob", "tom", "dana", "ana")
    return [
        Alert.build(
            rule="query_volume",
            severity="high",
            actor=actors[i % len(actors)],
            symbol=None,
            ts=T0 + i,
            event_ids=(f"{tag}-{i}",),
            explanation="bench",
            action="alert_security",
        )
        for i in range(count)
    ]


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def bench_ingest(count: int, repeat: int) -> tuple[float, float]:
    """(alerts/s through AlertService.ingest, entries/s through bare AuditLog.append), medians."""
    firm = load_config(FIRM)
    ingest_rates, append_rates = [], []
    for run in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            engine = make_engine(url)
            log = AuditLog(engine)
            stack = build_cases(firm, engine, log)
            alerts = _alerts(count, f"r{run}")
            start = time.perf_counter()
            stack.alerts.ingest(alerts)
            ingest_rates.append(count / (time.perf_counter() - start))
            start = time.perf_counter()
            for i in range(count):
                log.append(AuditEntry("alert", AuditAction.ALERTED, f"b{i}", SYSTEM_ACTOR, T0 + i))
            append_rates.append(count / (time.perf_counter() - start))
            stack.close()
            log.close()
            engine.dispose()
    return _median(ingest_rates), _median(append_rates)


def _per_call_ns(call: Callable[[], object], calls: int, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for _ in range(calls):
            call()
        runs.append((time.perf_counter_ns() - start) / calls)
    return _median(runs)


def bench_checks(patterns: int, calls: int, repeat: int) -> dict[str, float]:
    """Nanoseconds per ResponseState check with ``patterns`` blocked patterns, medians."""
    firm = load_config(FIRM)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        log = AuditLog(engine)
        stack = build_cases(firm, engine, log)
        for i in range(patterns):
            stack.responses.block(BlockedPattern(f"p{i}", "AAPL"), actor="sofia", reason="bench")
        stack.responses.suspend("tom", actor="sofia", reason="bench")
        state = stack.state
        baseline = {"tom"}
        figures = {
            "set lookup (baseline)": _per_call_ns(lambda: "alice" in baseline, calls, repeat),
            "is_suspended": _per_call_ns(lambda: state.is_suspended("alice"), calls, repeat),
            f"check_order, allowed ({patterns} patterns block other actors)": _per_call_ns(
                lambda: state.check_order("alice", symbol="AAPL", account="C-PENSION-1", venue="XNYS"),
                calls,
                repeat,
            ),
        }
        stack.close()
        log.close()
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny sizes")
    args = parser.parse_args()
    count, calls, patterns = (50, 1000, 10) if args.quick else (args.alerts, 200_000, 100)
    repeat = 1 if args.quick else args.repeat
    ingest, append = bench_ingest(count, repeat)
    checks = bench_checks(patterns, calls, repeat)
    print(f"| measure ({count} alerts, median of {repeat}) | value |")
    print("|---|---|")
    print(f"| alert ingestion (stored, audited, routed, case opened/joined) | {ingest:,.0f} alerts/s |")
    print(f"| bare audit append, one entry at a time (baseline) | {append:,.0f} entries/s |")
    for name, ns in checks.items():
        print(f"| {name} | {ns:,.0f} ns/call |")


if __name__ == "__main__":
    main()
