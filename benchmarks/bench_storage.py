"""Event store throughput: one append of N events (one transaction) and reading them back, per backend.

Run: .venv/bin/python benchmarks/bench_storage.py [--rows 1000000] [--repeat 3] [--quick]
PostgreSQL runs on a throwaway cluster (tests/pg.py) with fsync on. The baseline is writing the
same Arrow table to a Parquet file on the same disk, to put the figures in proportion.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pg import start_cluster

from orderguard.ingest.schema import EVENT_SCHEMA
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from orderguard.storage.migrate import upgrade

KINDS = np.array(["client_order", "personal_trade", "execution", "order_view", "login"])
BASE_NS = 1_795_185_000_000_000_000


def synthetic_events(rows: int, seed: int = 7) -> pa.Table:
    """``rows`` events in the ingest layout, columns built with NumPy (no Python object per row)."""
    rng = np.random.default_rng(seed)
    index = np.arange(rows)

    def text(prefix: str, values: np.ndarray) -> pa.Array:
        return pa.array(np.char.add(prefix, values.astype(str)))

    columns = {
        "seq": pa.array(index, pa.int64()),
        "event_id": text("ev-", index),
        "ts": pa.array(BASE_NS + np.sort(rng.integers(0, 86_400 * 10**9, rows)), pa.int64()).cast(
            EVENT_SCHEMA.field("ts").type
        ),
        "kind": pa.array(KINDS[rng.integers(0, len(KINDS), rows)]),
        "actor": text("emp-", rng.integers(0, 500, rows)),
        "account": text("ACC-", rng.integers(0, 20_000, rows)),
        "symbol": text("SYM", rng.zipf(1.5, rows) % 3000),
        "side": pa.array(np.where(rng.random(rows) < 0.5, "buy", "sell")),
        "qty": pa.array(rng.integers(1, 10_000, rows).astype(np.float64)),
        "price": pa.array(np.round(rng.uniform(5, 500, rows), 2)),
        "venue": pa.array(np.array(["XNYS", "XNAS", "ARCX"])[rng.integers(0, 3, rows)]),
        "order_id": text("O-", index // 3),
        "records": pa.array(rng.integers(0, 100, rows), pa.int64()),
        "ip": text("10.0.0.", rng.integers(1, 255, rows)),
        "session_id": text("s-", rng.integers(0, 5000, rows)),
    }
    return pa.Table.from_arrays([columns[f.name] for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(new_url: Callable[[], str], table: pa.Table, repeat: int) -> tuple[float, float]:
    """Median seconds to append ``table`` to a fresh database, and to read it back with to_arrow."""
    appends, reads = [], []
    for _ in range(repeat):
        url = new_url()
        upgrade(url)
        engine = make_engine(url)
        store = EventStore(engine)
        appends.append(timed(partial(store.append_batch, table)))
        assert store.count() == table.num_rows
        reads.append(timed(store.to_arrow))
        engine.dispose()
    return statistics.median(appends), statistics.median(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: 50k rows, once")
    args = parser.parse_args()
    # On SIGTERM, unwind normally so the throwaway PostgreSQL cluster and temporary files go away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows, repeat = (50_000, 1) if args.quick else (args.rows, args.repeat)
    table = synthetic_events(rows)
    results: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="og-bench-") as tmp:
        work = Path(tmp)
        counter = iter(range(10**6))
        parquet = work / "baseline.parquet"

        def write_parquet() -> None:
            pq.write_table(table, parquet)
            with parquet.open("rb+") as handle:  # fsync, as the databases do on commit
                os.fsync(handle.fileno())

        results.append(
            ("baseline: Parquet file", statistics.median(timed(write_parquet) for _ in range(repeat)), None)
        )
        append, read = measure(lambda: f"sqlite:///{work / f'bench-{next(counter)}.db'}", table, repeat)
        results.append(("SQLite (WAL, synchronous=FULL)", append, read))
        pg_dir = work / "pg"
        pg_dir.mkdir()
        with start_cluster(pg_dir) as cluster:
            append, read = measure(cluster.new_database, table, repeat)
        results.append(("PostgreSQL (COPY, fsync on)", append, read))
    print(f"\n{rows:,} events, median of {repeat}\n")
    print("| store | append s | append events/s | to_arrow s | to_arrow events/s |")
    print("|---|---:|---:|---:|---:|")
    for name, append_s, read_s in results:
        read_cells = "n/a | n/a" if read_s is None else f"{read_s:.2f} | {rows / read_s:,.0f}"
        print(f"| {name} | {append_s:.2f} | {rows / append_s:,.0f} | {read_cells} |")


if __name__ == "__main__":
    main()
