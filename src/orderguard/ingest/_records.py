"""Python records (dicts) to a raw Arrow table, type-checking each value: the slow, exact path.

Used for records handed over in memory (HTTP API, streams) and to pinpoint the failing line when the
columnar JSON reader rejects a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Final

import pyarrow as pa

from orderguard.ingest._locate import Locator
from orderguard.ingest.errors import IngestError
from orderguard.ingest.schema import TEXT_INPUT_TYPES

_PY_TYPES: Final[dict[pa.DataType, tuple[type, ...]]] = {
    pa.string(): (str,),
    pa.float64(): (int, float),
    pa.int64(): (int,),
}
_EXPECTED: Final = {pa.string(): "text", pa.float64(): "a number", pa.int64(): "a whole number"}


class NotJson:
    """A line that is not JSON, carried in order so that it is reported at its own line."""

    def __init__(self, message: str) -> None:
        self.message = message


def _not_an_object(record: object, path: str, location: str) -> IngestError:
    found = f"invalid JSON ({record.message})" if isinstance(record, NotJson) else type(record).__name__
    return IngestError(
        path,
        location,
        None,
        "a JSON object with the v1 fields",
        found=found,
        fix="write one complete JSON object per line",
    )


def _typed_value(name: str, value: object, path: str, location: Locator, row: int) -> IngestError | None:
    """An error if a v1 field holds a value of the wrong Python type (bool is not a number here)."""
    if value is None:
        return None
    target = TEXT_INPUT_TYPES[name]
    if not isinstance(value, bool) and isinstance(value, _PY_TYPES[target]) and _fits(value, target):
        return None
    expected = _EXPECTED[target]
    if isinstance(value, int) and not isinstance(value, bool) and not _fits(value, target):
        expected += (
            " within the 64-bit range (at most 9223372036854775807)"
            if target == pa.int64()
            else " within the 64-bit range (a finite double)"
        )
    if name == "ts":
        expected = "RFC 3339 UTC text such as 2026-11-20T14:30:00.123456789Z"
    return IngestError(
        path,
        location(row),
        name,
        expected,
        found=f"{value!r} ({type(value).__name__})",
        fix=f"write {name} as {expected}",
    )


def _fits(value: object, target: pa.DataType) -> bool:
    """Whether a whole number fits the column: int64 range, or a finite float64."""
    if not isinstance(value, int):
        return True
    if target == pa.int64():
        return -(2**63) <= value < 2**63
    if target == pa.float64():
        return abs(value) < 2**1023
    return True


def records_to_table(
    records: Iterable[Mapping[str, object] | object],
    path: str,
    locate: Locator,
    limit: int,
) -> tuple[pa.Table | None, list[IngestError]]:
    """A raw table (ts still text) of the records, or the first ``limit`` type errors found."""
    known: dict[str, list[object]] = {name: [] for name in TEXT_INPUT_TYPES}
    extra: dict[str, list[object]] = {}
    errors: list[IngestError] = []
    for row, record in enumerate(records):
        if len(errors) >= limit:
            break
        if not isinstance(record, Mapping):
            errors.append(_not_an_object(record, path, locate(row)))
            continue
        for name, values in known.items():
            value = record.get(name)
            error = _typed_value(name, value, path, locate, row)
            if error is not None:
                errors.append(error)
            values.append(value)
        for name, value in record.items():
            if name not in known:
                extra.setdefault(name, [None] * row).append(value)
        for values in extra.values():
            if len(values) <= row:
                values.append(None)
    if errors:
        return None, errors[:limit]
    arrays = {name: pa.array(values, type=TEXT_INPUT_TYPES[name]) for name, values in known.items()}
    for name, values in extra.items():
        arrays[name] = _extra_column(values)
    return pa.table(arrays), []


def _extra_column(values: list[object]) -> pa.Array:
    """Unknown fields keep their type when it is consistent; otherwise their JSON text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # e.g. a whole number beyond int64
        return pa.array([None if v is None else json.dumps(v, sort_keys=True) for v in values], pa.string())
