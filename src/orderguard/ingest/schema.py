"""The canonical Arrow layout of ingested events (interchange format v1 plus ``seq``)."""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from orderguard.domain.events import FLOAT_FIELDS, INT_FIELDS, STRING_FIELDS

TS_TYPE: Final = pa.timestamp("ns", tz="UTC")

# Column order is part of the contract: seq first, then the v1 fields, then unknown input columns.
EVENT_SCHEMA: Final = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("event_id", pa.string()),
        pa.field("ts", TS_TYPE),
        pa.field("kind", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("account", pa.string()),
        pa.field("symbol", pa.string()),
        pa.field("side", pa.string()),
        pa.field("qty", pa.float64()),
        pa.field("price", pa.float64()),
        pa.field("venue", pa.string()),
        pa.field("order_id", pa.string()),
        pa.field("records", pa.int64()),
        pa.field("ip", pa.string()),
        pa.field("session_id", pa.string()),
    ]
)

# The v1 columns an input file may carry (everything but seq), with the type each must convert to.
INPUT_TYPES: Final[dict[str, pa.DataType]] = {f.name: f.type for f in EVENT_SCHEMA if f.name != "seq"}
TEXT_INPUT_TYPES: Final[dict[str, pa.DataType]] = {**INPUT_TYPES, "ts": pa.string()}

assert set(INPUT_TYPES) == {*STRING_FIELDS, "ts", *FLOAT_FIELDS, *INT_FIELDS}
