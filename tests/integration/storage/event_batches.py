"""Arrow batches of v1 events in the ingest layout (``orderguard.ingest.schema.EVENT_SCHEMA``)."""

from __future__ import annotations

import pyarrow as pa

from orderguard.ingest.schema import EVENT_SCHEMA

BASE_NS = 1_763_650_000_123_456_789  # 2025-11-20T14:46:40.123456789Z: all nine digits significant
KINDS = ("client_order", "personal_trade", "execution", "order_view", "login")


def event_batch(count: int, prefix: str = "e", start_ns: int = BASE_NS, step_ns: int = 1) -> pa.Table:
    """``count`` events ``{prefix}-0..`` one ``step_ns`` apart, a mix of kinds, actors and accounts."""
    ids = range(count)
    columns: dict[str, list[object]] = {
        "seq": list(ids),
        "event_id": [f"{prefix}-{i}" for i in ids],
        "ts": [start_ns + i * step_ns for i in ids],
        "kind": [KINDS[i % len(KINDS)] for i in ids],
        "actor": [f"trader-{i % 7}" for i in ids],
        "account": [f"ACC-{i % 11}" for i in ids],
        "symbol": [("AAPL", "MSFT", "NBSC")[i % 3] for i in ids],
        "side": [("buy", "sell")[i % 2] for i in ids],
        "qty": [float(100 + i % 50) for i in ids],
        "price": [101.25 + (i % 1000) / 1000 for i in ids],
        "venue": [("XNYS", "XNAS", "ARCX")[i % 3] for i in ids],
        "order_id": [f"{prefix}-O{i // 3}" for i in ids],
        "records": [i % 90 for i in ids],
        "ip": ["10.0.0.1" for _ in ids],
        "session_id": [f"s{i % 13}" for i in ids],
    }
    arrays = [
        pa.array(columns[f.name], pa.int64()).cast(f.type)
        if f.name == "ts"
        else pa.array(columns[f.name], f.type)
        for f in EVENT_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
