"""Write events in the v1 interchange format (.parquet, .jsonl, .csv by suffix), column-wise.

``seq`` is not written: it is stamped again on intake, and reading a written file back in file order
gives the same seq when the same start_seq is used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orderguard.ingest._readers import file_format
from orderguard.ingest.batch import EventBatch
from orderguard.ingest.schema import TS_TYPE

_CHUNK_ROWS: Final = 1 << 20
_CONTROL: Final = r"[\x00-\x1f]"
_NEEDS_ESCAPE: Final = r'["\\\x00-\x1f]'
_REPEATING: Final = ("kind", "actor", "account", "symbol", "side", "venue", "ip")


def ts_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """timestamp[ns, UTC] to RFC 3339 text with nine fractional digits and 'Z' (null stays null).

    strftime is slow per row, so it formats each distinct second once; the nanoseconds are appended.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    ns = pc.fill_null(column.cast(pa.int64()), 0).to_numpy()
    seconds, fraction = np.divmod(ns, 1_000_000_000)
    distinct, where = np.unique(seconds, return_inverse=True)
    # %S prints the fraction of the column's unit; keep the first 19 characters (up to the seconds).
    labels = pc.utf8_slice_codeunits(
        pc.strftime(pa.array(distinct * 1_000_000_000).cast(TS_TYPE), format="%Y-%m-%dT%H:%M:%S"), 0, 19
    )
    digits = pc.utf8_lpad(pa.array(fraction).cast(pa.string()), width=9, padding="0")
    text = pc.binary_join_element_wise(labels.take(pa.array(where.reshape(-1))), ".", digits, "Z", "")
    return (
        text
        if column.null_count == 0
        else pc.if_else(pc.is_valid(column), text, pa.scalar(None, pa.string()))
    )


def interchange_table(events: EventBatch | pa.Table) -> pa.Table:
    """The table as written: every column but seq."""
    table = events.table if isinstance(events, EventBatch) else events
    return table.drop_columns(["seq"]) if "seq" in table.column_names else table


def write_events(events: EventBatch | pa.Table, path: Path | str) -> Path:
    """Write the events to ``path`` in the format its suffix names; returns the path."""
    path = Path(path)
    table = interchange_table(events)
    fmt = file_format(path)
    if fmt == "parquet":
        # Dictionary pages only where values repeat: hashing ten million unique ids costs seconds.
        repeating = [n for n in _REPEATING if n in table.column_names]
        pq.write_table(table, path, row_group_size=_CHUNK_ROWS, use_dictionary=repeating)
    elif fmt == "csv":
        text = table.set_column(table.schema.get_field_index("ts"), "ts", ts_text(table.column("ts")))
        pa_csv.write_csv(text, path)
    else:
        with path.open("wb") as handle:
            for start in range(0, table.num_rows, _CHUNK_ROWS):
                handle.write(_json_lines(table.slice(start, _CHUNK_ROWS).combine_chunks()))
    return path


def _json_string(values: pa.Array) -> pa.Array:
    escaped = values
    if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        escaped = pc.replace_substring(values, "\\", "\\\\")
        for raw, code in (('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            escaped = pc.replace_substring(escaped, raw, code)
        if pc.any(pc.match_substring_regex(escaped, _CONTROL)).as_py():
            return pa.array([None if v is None else json.dumps(v) for v in values.to_pylist()], pa.string())
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _json_value(name: str, values: pa.Array) -> pa.Array:
    """Each value as JSON text (null stays null)."""
    kind = values.type
    if name == "ts" and pa.types.is_timestamp(kind):
        return _json_string(ts_text(values))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _json_string(values.cast(pa.string()))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return values.cast(pa.string())
    return pa.array(
        [None if v is None else json.dumps(v, default=str) for v in values.to_pylist()], pa.string()
    )


def _json_lines(table: pa.Table) -> bytes:
    """One JSON object per row, absent (null) fields left out, as the bytes of the lines."""
    pieces = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column.chunk(0) if column.num_chunks else pa.array([], column.type)
        pieces.append(
            pc.fill_null(pc.binary_join_element_wise(f',"{name}":', _json_value(name, values), ""), "")
        )
    body = pc.utf8_ltrim(pc.binary_join_element_wise(*pieces, ""), characters=",")
    lines = pc.binary_join_element_wise("{", body, "}\n", "")
    return "".join(lines.to_pylist()).encode() if lines.offset else _buffer_bytes(lines)


def _buffer_bytes(lines: pa.Array) -> bytes:
    """The concatenated string data of an unsliced string array, without a Python object per row."""
    offsets = lines.buffers()[1]
    data = lines.buffers()[2]
    if data is None:
        return b""
    end = pa.Array.from_buffers(pa.int32(), len(lines) + 1, [None, offsets])[-1].as_py()
    content: bytes = data.to_pybytes()[:end]
    return content
