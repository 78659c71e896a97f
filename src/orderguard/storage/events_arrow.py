"""Between Arrow tables in the ingest layout and rows of the ``events`` table.

The ingest layout (``orderguard.ingest``) has ``ts`` as ``timestamp[ns, UTC]``;
the table keeps ``ts_ns`` as an int64. Columns outside v1 are packed into one
JSON object per row (``extra``), non-null values only.
"""

from __future__ import annotations

import json
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import COMMON_REQUIRED
from orderguard.ingest.schema import EVENT_SCHEMA, TS_TYPE
from orderguard.storage.events_tables import EVENT_COLUMNS

REQUIRED: Final = COMMON_REQUIRED

# The Arrow layout of stored events: the ingest schema (one definition of the v1 columns), the
# required fields not null, plus ``extra`` (JSON text or null).
STORED_SCHEMA: Final = pa.schema(
    [
        *(field.with_nullable(False) if field.name in REQUIRED else field for field in EVENT_SCHEMA),
        pa.field("extra", pa.string()),
    ]
)

_V1_TYPES: Final = {f.name: f.type for f in STORED_SCHEMA if f.name not in ("seq", "ts", "extra")}
_KNOWN: Final = frozenset({*STORED_SCHEMA.names})


class EventBatchError(ValueError):
    """A batch that cannot be stored as it is; the message names the column and the fix."""


def prepare_batch(table: pa.Table) -> pa.Table:
    """The batch in table-column order without ``seq`` (stamped at append), ``ts`` as int64 ``ts_ns``."""
    repeated = sorted({name for name in table.column_names if table.column_names.count(name) > 1})
    if repeated:
        raise EventBatchError(f"event batch has column(s) {', '.join(repeated)} more than once; keep one")
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise EventBatchError(f"event batch lacks required column(s) {', '.join(missing)}")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"ts_ns": _ts_ns(table.column("ts"))}
    for name, arrow_type in _V1_TYPES.items():
        if name not in table.column_names:
            columns[name] = pa.nulls(table.num_rows, arrow_type)
            continue
        try:
            columns[name] = table.column(name).cast(arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise EventBatchError(
                f"event batch column {name!r} cannot be read as {arrow_type}: {exc}"
            ) from None
    columns["extra"] = _extra(table)
    for name in REQUIRED:
        target = "ts_ns" if name == "ts" else name
        if columns[target].null_count:
            raise EventBatchError(f"event batch column {name!r} has empty values; it is required")
    return pa.table({name: columns[name] for name in EVENT_COLUMNS if name != "seq"})


def duplicate_ids(event_ids: pa.ChunkedArray | pa.Array, limit: int = 5) -> list[str]:
    """Up to ``limit`` event ids that occur more than once in ``event_ids``."""
    if pc.count_distinct(event_ids).as_py() == len(event_ids):
        return []
    counts = pa.table({"event_id": event_ids}).group_by("event_id").aggregate([("event_id", "count")])
    repeated = counts.filter(pc.greater(counts.column("event_id_count"), 1))
    return [str(v) for v in repeated.column("event_id").to_pylist()[:limit]]


def with_seq(prepared: pa.Table, first_seq: int) -> pa.Table:
    """``prepared`` with ``seq`` = first_seq, first_seq + 1, ... in row order."""
    seq = pa.array(range(first_seq, first_seq + prepared.num_rows), pa.int64())
    return prepared.add_column(0, "seq", seq)


def stored_table(columns: dict[str, pa.Array | pa.ChunkedArray]) -> pa.Table:
    """Columns named as in the ``events`` table (``ts_ns`` int64) → a table in STORED_SCHEMA."""
    arrays = []
    for field in STORED_SCHEMA:
        if field.name == "ts":
            arrays.append(columns["ts_ns"].cast(pa.int64()).cast(TS_TYPE))
        else:
            arrays.append(columns[field.name].cast(field.type))
    return pa.Table.from_arrays(arrays, schema=STORED_SCHEMA)


def _ts_ns(ts: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(ts.type):
        if ts.type.tz not in ("UTC", "+00:00", "Etc/UTC", "Z"):
            raise EventBatchError(
                f"event batch column 'ts' has type {ts.type}; expected timestamp[ns, tz=UTC]"
            )
        return ts.cast(TS_TYPE).cast(pa.int64())
    if pa.types.is_integer(ts.type):
        return ts.cast(pa.int64())
    raise EventBatchError(
        f"event batch column 'ts' has type {ts.type}; expected timestamp[ns, tz=UTC] or int64 epoch ns"
    )


def _extra(table: pa.Table) -> pa.ChunkedArray | pa.Array:
    if "extra" in table.column_names:  # a table from to_arrow(): one JSON object (or null) per row
        extra = table.column("extra")
        if not pa.types.is_string(extra.type):
            raise EventBatchError(f"event batch column 'extra' has type {extra.type}; expected JSON text")
        for index, text in enumerate(extra.to_pylist()):
            if text is not None and not isinstance(_json_or_none(text), dict):
                raise EventBatchError(f"event batch column 'extra', row {index}: expected a JSON object")
        return extra
    unknown = [name for name in table.column_names if name not in _KNOWN]
    if not unknown:
        return pa.nulls(table.num_rows, pa.string())
    values = {name: table.column(name).to_pylist() for name in unknown}
    packed: list[str | None] = []
    for i in range(table.num_rows):
        row = {name: values[name][i] for name in unknown if values[name][i] is not None}
        packed.append(json.dumps(row, sort_keys=True, default=str) if row else None)
    return pa.array(packed, pa.string())


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
