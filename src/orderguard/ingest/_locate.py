"""Where a row of a table came from ("line 12", "row 7"), computed only when an error needs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

Locator = Callable[[int], str]


def row_locator(row: int) -> str:
    """Parquet and in-memory records: 1-based row numbers."""
    return f"row {row + 1}"


class LineLocator:
    """Text files: the physical line of the n-th non-blank record line (after ``header_lines`` of them)."""

    def __init__(self, path: Path, header_lines: int = 0) -> None:
        self._path = path
        self._header_lines = header_lines
        self._lines: list[int] | None = None

    def __call__(self, row: int) -> str:
        if self._lines is None:
            self._lines = []
            with self._path.open("rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    if raw.strip():
                        self._lines.append(number)
        index = row + self._header_lines
        return f"line {self._lines[index]}" if index < len(self._lines) else f"record {row + 1}"


def first_failing_row(array: pa.Array, convert: Callable[[pa.Array], object], start: int = 0) -> int | None:
    """The first index >= start at which ``convert`` raises on the one-element slice, by bisection.

    Each step converts a half of the remaining range, so finding the row costs about two full conversions.
    """
    low, high = start, len(array)
    try:
        convert(array.slice(low, high - low))
    except (pa.ArrowInvalid, ValueError):
        pass
    else:
        return None
    while high - low > 1:
        mid = (low + high) // 2
        try:
            convert(array.slice(low, mid - low))
        except (pa.ArrowInvalid, ValueError):
            high = mid
        else:
            low = mid
    return low


def true_indices(mask: pa.Array | pa.ChunkedArray, limit: int) -> list[int]:
    """The first ``limit`` positions where a boolean mask is true (nulls count as false)."""
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():
        return []
    indices = pc.indices_nonzero(filled)
    return [int(i) for i in indices.slice(0, limit).to_pylist()]
