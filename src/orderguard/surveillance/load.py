"""Reading a day of events from Parquet straight into what the batch detectors use.

String columns the detectors group by arrive dictionary-encoded, one
dictionary per column, so the scan reads int32 codes instead of hashing
millions of strings: small-cardinality columns come from Parquet's own
dictionary pages; order ids (millions of distinct values) are hash-encoded
once here. Columns the detectors never read (ip, session_id, extras) are not
loaded at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orderguard.domain.events import COMMON_REQUIRED, OPTIONAL_FIELDS
from orderguard.surveillance.columns import UNIQUE_DICTIONARY

# Every v1 column but these, which no detector reads.
UNREAD_COLUMNS: Final = ("ip", "session_id")
DETECTOR_COLUMNS: Final = (
    "seq",
    *COMMON_REQUIRED,
    *(name for name in OPTIONAL_FIELDS if name not in UNREAD_COLUMNS),
)
DICTIONARY_COLUMNS: Final = ("kind", "actor", "account", "symbol", "side", "venue", "order_id")
# Nearly unique per row: Parquet stores them plain and its per-batch dictionaries grow with the
# row group, so one hash encoding of the whole column is cheaper than reading and merging those.
UNIQUE_ID_COLUMNS: Final = ("order_id",)


def single_dictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary column as one chunk with one dictionary (Arrow unifies small dictionaries fast)."""
    return pa.chunked_array([column.unify_dictionaries().combine_chunks()], type=column.type)


def read_day(path: Path | str, columns: tuple[str, ...] = DETECTOR_COLUMNS) -> pa.Table:
    """The detector columns of a Parquet events file, group-by columns as single dictionary arrays.

    Columns the detectors do not read (ip, session_id, extras) are not loaded. A file without
    ``seq`` gets seq = row number, as intake stamps a single file.
    """
    present = set(pq.read_schema(path).names)
    missing = [c for c in columns if c not in present and c != "seq"]
    if missing:
        raise ValueError(
            f"{path}: no column(s) {', '.join(missing)}; an events file in format v1 carries every "
            "v1 field (docs/event-format.md), so write it with `orderguard sim` or the ingest reader"
        )
    wanted = [c for c in columns if c in present]
    small = [c for c in DICTIONARY_COLUMNS if c in wanted and c not in UNIQUE_ID_COLUMNS]
    table = pq.read_table(path, columns=wanted, read_dictionary=small)
    for name in DICTIONARY_COLUMNS:
        if name not in wanted:
            continue
        column = table.column(name)
        if name in UNIQUE_ID_COLUMNS:
            combined = pa.chunked_array([pc.dictionary_encode(column.combine_chunks())])
        else:
            combined = single_dictionary(column)
        field = pa.field(name, combined.type, metadata=UNIQUE_DICTIONARY)
        table = table.set_column(table.schema.get_field_index(name), field, combined)
    if "seq" in columns and "seq" not in present:
        table = table.add_column(0, "seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    return table.combine_chunks()  # contiguous columns: the scan reads them as NumPy views
