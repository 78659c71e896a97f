"""read_events / validate_files / batch_from_records: files and records in, one validated EventBatch out.

Each file is checked as a whole before anything from it is kept; event ids are checked for duplicates
within a file and across the files of one call; seq = start_seq + position in intake order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import COMMON_REQUIRED, STRING_FIELDS
from orderguard.ingest._checks import ValueChecker
from orderguard.ingest._columns import ColumnCoercer
from orderguard.ingest._locate import Locator, row_locator, true_indices
from orderguard.ingest._readers import read_raw
from orderguard.ingest._records import records_to_table
from orderguard.ingest.batch import EventBatch
from orderguard.ingest.errors import FileReport, IngestError, IngestReport
from orderguard.ingest.schema import EVENT_SCHEMA, INPUT_TYPES

REPORT_LIMIT = 20
# Optional text that arrives empty ("" in JSON, an empty CSV cell, "" in Parquet) is stored as absent
# (null), decided here once for every reader, so no later stage has to tell "" from None.
_OPTIONAL_TEXT = tuple(name for name in STRING_FIELDS if name not in COMMON_REQUIRED)


@dataclass
class _Checked:
    """One file after all its own checks: its v1 table (seq still 0), or its errors."""

    path: str
    locate: Locator
    table: pa.Table | None
    errors: list[IngestError]


def _check_raw(raw: pa.Table, path: str, locate: Locator, limit: int) -> _Checked:
    coercer = ColumnCoercer(path, locate, limit)
    columns = coercer.coerce(raw)
    errors = list(coercer.errors)
    errors.extend(
        IngestError(
            path,
            "header" if locate is not row_locator else None,
            name,
            f"a column named {name!r} (required for every event)",
            found=f"columns {', '.join(raw.column_names) or '(none)'}",
            fix="add the column; v1 names are lower case (docs/event-format.md)",
        )
        for name in COMMON_REQUIRED
        if name not in raw.column_names
    )
    checker = ValueChecker(path, locate, limit)
    checker.check(columns, coercer.failed)
    errors.extend(checker.errors)
    if errors:
        errors.sort(key=lambda e: e.row_key)
        return _Checked(path, locate, None, errors[:limit])
    rows = raw.num_rows
    arrays: list[pa.ChunkedArray | pa.Array] = [pa.nulls(rows, pa.int64()).fill_null(0)]
    arrays.extend(
        _empty_as_absent(columns[f.name])
        if f.name in _OPTIONAL_TEXT and f.name in columns
        else columns.get(f.name, pa.nulls(rows, f.type))
        for f in EVENT_SCHEMA
        if f.name != "seq"
    )
    table = pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
    for name in raw.column_names:
        if name not in INPUT_TYPES and name != "seq":
            table = table.append_column(name, raw.column(name))
    return _Checked(path, locate, table, [])


def _empty_as_absent(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``column`` with every empty string turned into null (unchanged when it has none)."""
    empty = pc.equal(column, "")
    if not pc.any(empty).as_py():
        return column
    return pc.if_else(empty, pa.scalar(None, column.type), column)


def _check_file(path: Path, limit: int) -> _Checked:
    raw, locate, errors = read_raw(path, limit)
    if raw is None:
        return _Checked(str(path), locate, None, errors)
    return _check_raw(raw, str(path), locate, limit)


def _cross_file_duplicates(checked: list[_Checked], limit: int) -> None:
    """Mark a later file invalid where it repeats an event_id of an earlier (valid) file of the same call."""
    earlier: list[_Checked] = []
    for current in checked:
        if current.table is None:
            continue
        ids = current.table.column("event_id")
        for previous in earlier:
            assert previous.table is not None
            prev_ids = previous.table.column("event_id").combine_chunks()
            hits = true_indices(pc.is_in(ids, value_set=prev_ids), limit)
            for row in hits:
                value = ids[row].as_py()
                first = pc.index(prev_ids, value).as_py()
                current.errors.append(
                    IngestError(
                        current.path,
                        current.locate(row),
                        "event_id",
                        "an event_id not used by an earlier file of this intake",
                        found=f"{value!r}, already used at {previous.path}, {previous.locate(first)}",
                        fix="give every event its own id, or ingest the file once",
                    )
                )
        if current.errors:
            current.errors = current.errors[:limit]
            current.table = None
        else:
            earlier.append(current)


def _stamp(tables: list[pa.Table], start_seq: int) -> EventBatch:
    if not tables:
        empty = pa.Table.from_arrays([pa.array([], f.type) for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)
        return EventBatch(empty)
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    seq = pa.array(np.arange(start_seq, start_seq + table.num_rows, dtype=np.int64))
    return EventBatch(table.set_column(0, EVENT_SCHEMA.field("seq"), seq))


def read_events(paths: Sequence[Path | str], *, start_seq: int = 0) -> EventBatch:
    """All events of the files (.jsonl/.json, .csv, .parquet), or IngestError at the first problem."""
    checked = [_check_file(Path(p), 1) for p in paths]
    for item in checked:
        if item.errors:
            raise item.errors[0]
    _cross_file_duplicates(checked, 1)
    for item in checked:
        if item.errors:
            raise item.errors[0]
    return _stamp([item.table for item in checked if item.table is not None], start_seq)


def validate_files(paths: Sequence[Path | str], *, limit: int = REPORT_LIMIT) -> IngestReport:
    """Check the files as read_events would, collecting up to ``limit`` errors per file."""
    checked = [_check_file(Path(p), limit) for p in paths]
    _cross_file_duplicates(checked, limit)
    reports = []
    for item in checked:
        report = FileReport(item.path, errors=item.errors, more_errors=len(item.errors) >= limit)
        if item.table is not None:
            report.rows = item.table.num_rows
            report.counts = EventBatch(item.table).counts_by_kind()
        reports.append(report)
    return IngestReport(reports)


def batch_from_records(
    records: Iterable[Mapping[str, object]], *, source: str = "<records>", start_seq: int = 0
) -> EventBatch:
    """Events from in-memory records (v1 names, ts as RFC 3339 text); IngestError at the first problem."""
    raw, errors = records_to_table(records, source, row_locator, 1)
    if errors:
        raise errors[0]
    assert raw is not None
    checked = _check_raw(raw, source, row_locator, 1)
    if checked.errors:
        raise checked.errors[0]
    assert checked.table is not None
    return _stamp([checked.table], start_seq)
