"""Bring a file's raw columns to the v1 types, vectorized, naming the first rows that do not fit."""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import TimestampError, parse_ts
from orderguard.ingest._locate import Locator, first_failing_row, true_indices
from orderguard.ingest.errors import IngestError
from orderguard.ingest.schema import INPUT_TYPES, TS_TYPE

TS_EXAMPLE: Final = "2026-11-20T14:30:00.123456789Z"
TS_EXPECTED: Final = f"an RFC 3339 UTC timestamp such as {TS_EXAMPLE}"
# The same grammar as orderguard.domain.parse_ts, checked by RE2 over the whole column at once.
TS_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]00:00)$"
UTC_ZONES: Final = frozenset({"UTC", "Etc/UTC", "utc", "Z", "+00:00", "-00:00", "GMT", "Etc/GMT", "Zulu"})

_EXPECTED_TEXT: Final = {
    pa.string(): "text",
    pa.float64(): "a number",
    pa.int64(): "a whole number",
}


def _cell(array: pa.Array | pa.ChunkedArray, row: int) -> str:
    return repr(array[row].as_py())


class ColumnCoercer:
    """Converts the columns of one file; collects up to ``limit`` errors instead of stopping at the first."""

    def __init__(self, path: str, locate: Locator, limit: int) -> None:
        self.path = path
        self.locate = locate
        self.limit = limit
        self.errors: list[IngestError] = []
        self.failed: set[str] = set()  # columns present but not convertible: not "missing" later

    def error(self, row: int | None, field: str | None, expected: str, found: str | None, fix: str) -> None:
        location = None if row is None else self.locate(row)
        self.errors.append(IngestError(self.path, location, field, expected, found=found, fix=fix))

    def coerce(self, table: pa.Table) -> dict[str, pa.ChunkedArray]:
        """The v1 columns present in ``table`` at their v1 types (absent ones are left out)."""
        columns: dict[str, pa.ChunkedArray] = {}
        for name, target in INPUT_TYPES.items():
            if name not in table.column_names:
                continue
            column = table.column(name)
            converted = self._timestamps(column) if name == "ts" else self._convert(name, column, target)
            if converted is not None:
                columns[name] = converted
            else:
                self.failed.add(name)
        return columns

    def _convert(self, name: str, column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray | None:
        source = column.type
        if pa.types.is_dictionary(source):
            column = column.cast(source.value_type)
            source = column.type
        if source == target:
            return column
        expected = _EXPECTED_TEXT[target]
        allowed = (
            pa.types.is_null(source)
            or (target == pa.string() and pa.types.is_large_string(source))
            or (target == pa.float64() and (pa.types.is_integer(source) or pa.types.is_floating(source)))
            or (target == pa.int64() and pa.types.is_integer(source))
            or (target != pa.string() and (pa.types.is_string(source) or pa.types.is_large_string(source)))
        )
        if not allowed:
            rows = true_indices(pc.is_valid(column), 1)
            row = rows[0] if rows else None
            found = f"{_cell(column, row)} ({source})" if row is not None else str(source)
            self.error(row, name, expected, found, f"write {name} as {expected} in every record")
            return None
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        before = len(self.errors)
        start = 0
        while len(self.errors) - before < self.limit:
            row = first_failing_row(array, lambda a: pc.cast(a, target), start)
            if row is None:
                break
            self.error(row, name, expected, _cell(array, row), f"write {name} as {expected}")
            start = row + 1
        if len(self.errors) > before:
            return None
        return pa.chunked_array([pc.cast(array, target)])

    def _timestamps(self, column: pa.ChunkedArray) -> pa.ChunkedArray | None:
        source = column.type
        if pa.types.is_timestamp(source):
            return self._typed_timestamps(column)
        if pa.types.is_dictionary(source):
            column = column.cast(source.value_type)
            source = column.type
        if not (pa.types.is_string(source) or pa.types.is_large_string(source) or pa.types.is_null(source)):
            rows = true_indices(pc.is_valid(column), 1)
            found = f"{_cell(column, rows[0])} ({source})" if rows else str(source)
            self.error(
                rows[0] if rows else None, "ts", TS_EXPECTED, found, "write ts as RFC 3339 text in UTC"
            )
            return None
        return self._text_timestamps(column.cast(pa.string()))

    def _typed_timestamps(self, column: pa.ChunkedArray) -> pa.ChunkedArray | None:
        zone = column.type.tz
        if zone is None:
            self.error(
                None,
                "ts",
                "timestamp[ns, tz=UTC]",
                f"{column.type} (no time zone)",
                "store ts as UTC-adjusted timestamps (e.g. pandas: .dt.tz_localize('UTC'))",
            )
            return None
        if zone not in UTC_ZONES:
            self.error(
                None,
                "ts",
                "timestamp[ns, tz=UTC]",
                f"time zone {zone!r}",
                "convert ts to UTC before writing (e.g. pandas: .dt.tz_convert('UTC'))",
            )
            return None
        # Instants are stored as UTC in every Arrow timestamp; only the unit and label change here.
        return column.cast(TS_TYPE)

    def _text_timestamps(self, column: pa.ChunkedArray) -> pa.ChunkedArray | None:
        shaped = pc.match_substring_regex(column, TS_PATTERN)
        before = len(self.errors)
        for row in true_indices(pc.invert(shaped), self.limit):
            text = column[row].as_py()
            self.error(row, "ts", TS_EXPECTED, repr(text), _timestamp_fix(text))
        if len(self.errors) > before:
            return None
        upper = pc.utf8_upper(column)
        array = upper.combine_chunks() if upper.num_chunks != 1 else upper.chunk(0)
        start = 0
        while len(self.errors) - before < self.limit:
            bad = first_failing_row(array, lambda a: pc.cast(a, TS_TYPE), start)
            if bad is None:
                break
            self.error(bad, "ts", TS_EXPECTED, repr(column[bad].as_py()), "use a real date and time of day")
            start = bad + 1
        if len(self.errors) > before:
            return None
        return pa.chunked_array([pc.cast(array, TS_TYPE)])


def _timestamp_fix(text: str) -> str:
    """Advice for one malformed timestamp: say what is wrong with it specifically."""
    stripped = text.strip()
    if stripped != text:
        return "remove the surrounding spaces"
    if stripped[-6:-5] in ("+", "-") and stripped[-3:-2] == ":":
        return f"convert to UTC and write the offset as 'Z' (e.g. {TS_EXAMPLE})"
    if stripped[-1:] not in ("Z", "z"):
        return f"add the zone: timestamps must be UTC and end with 'Z' (e.g. {TS_EXAMPLE})"
    try:
        parse_ts(stripped)
    except TimestampError:
        return f"write the date and time as YYYY-MM-DDTHH:MM:SS[.fffffffff]Z (e.g. {TS_EXAMPLE})"
    return "keep at most 9 fractional digits"
