"""What the structuring detector costs: batch over a cached day, stream per event, with same-run baselines.

Batch: the detector alone over bench_surveillance's cached day (generated with
`orderguard sim` if absent), beside wash_trading alone (a detector of similar
shape) measured in the same run. Stream: CPU per event of an engine with
structuring alone minus an engine with no detector, over a freshly simulated day
(whose base flow holds no burst by construction), beside wash_trading again.

    .venv/bin/python benchmarks/bench_structuring.py [--quick] [--events N] [--stream-events M] [--runs R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPARED = ("structuring", "wash_trading")


def _bench_surveillance() -> Any:
    spec = importlib.util.spec_from_file_location("bench_surveillance", HERE / "bench_surveillance.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(runs: int, work: Callable[[], int]) -> tuple[float, float, int]:
    """Median wall s, median CPU s and the result of ``work`` over ``runs`` runs."""
    walls, cpus, found = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        found = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), found


def _scan(engine: Any, table: Any) -> Callable[[], int]:
    return lambda: len(engine.scan(table))


def batch_rows(events: int, runs: int) -> list[tuple[str, str]]:
    from orderguard.config import load_config
    from orderguard.surveillance.batch import BatchEngine
    from orderguard.surveillance.load import read_day

    day = _bench_surveillance().ensure_day(events)
    firm = load_config(day / "firm.toml")
    table = read_day(day / "events.parquet")
    orders = sum(1 for kind in table.column("kind").to_pylist() if kind == "client_order")
    rows = []
    for rule in COMPARED:
        wall, cpu, found = _timed(runs, _scan(BatchEngine(firm, rules=(rule,), workers=1), table))
        what = f"batch, {rule} alone, {table.num_rows:,} events ({orders:,} client orders)"
        rows.append(
            (f"{what}: wall / CPU, median of {runs}; alerts", f"{wall:.2f} s / {cpu:.2f} s; {found:,}")
        )
    return rows


def stream_rows(events: int, runs: int) -> list[tuple[str, str]]:
    from orderguard.config import load_config
    from orderguard.ingest import EventBatch
    from orderguard.sim import generate_day, scaled_size, synthetic_firm
    from orderguard.surveillance.stream import StreamEngine

    size = scaled_size(events)
    base = load_config(HERE.parent / "examples" / "firm.toml")
    firm = synthetic_firm(base, seed=1, traders=size["traders"], clients=size["clients"])
    day = generate_day(events=events, seed=1, date=dt.date(2026, 11, 20), firm=firm)
    stream = list(EventBatch(day.table).sorted().iter_events())
    gc.collect()
    gc.freeze()

    def cpu_ns(rules: tuple[str, ...]) -> float:
        def run() -> int:
            observe = StreamEngine(firm, rules=rules).observe
            return sum(len(observe(event)) for event in stream)

        return _timed(runs, run)[1] / len(stream) * 1e9

    bare = cpu_ns(())
    orders = sum(1 for event in stream if event.kind.value == "client_order")
    rows = [(f"stream, engine with no detector, {len(stream):,} events: CPU per event", f"{bare:,.0f} ns")]
    for rule in COMPARED:
        added = cpu_ns((rule,)) - bare
        rows.append(
            (
                f"stream, CPU per event (of every kind) added by {rule} alone; per client order",
                f"{added:,.0f} ns; {added * len(stream) / orders:,.0f} ns"
                if rule == "structuring"
                else f"{added:,.0f} ns",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 200,000-event day, 50,000 streamed")
    parser.add_argument("--events", type=int, default=10_000_000, help="events of the cached batch day")
    parser.add_argument("--stream-events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parts", default="batch,stream", help="comma-separated: batch, stream")
    args = parser.parse_args()
    events = 200_000 if args.quick else args.events
    streamed = 50_000 if args.quick else args.stream_events
    parts = set(args.parts.split(","))
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"machine: {_bench_surveillance().machine()}; date {now}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print("| measure | value |")
    print("|---|---:|")
    rows = (batch_rows(events, args.runs) if "batch" in parts else []) + (
        stream_rows(streamed, args.runs) if "stream" in parts else []
    )
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\nload average after the run: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
