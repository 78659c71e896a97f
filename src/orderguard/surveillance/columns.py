"""A day of events as NumPy columns in total order (ts, seq): what the batch detectors read.

Positions (indices into these arrays) are the total order; a time window
becomes a position range through one ``searchsorted`` on the sorted ``ts``.
String columns become integer codes on first use (code -1 is null), so a
detector pays only for the columns it reads; a column that arrives
dictionary-encoded (``load.read_day``) costs no hashing at all.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import EventKind
from orderguard.surveillance.arrays import dense_unique, expand_ranges, group_order, search, sorted_order
from orderguard.surveillance.arrow_buffers import codes_of, mapped_codes

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
__all__ = [
    "BOOL",
    "F64",
    "I32",
    "I64",
    "Coded",
    "DayColumns",
    "GroupIndex",
    "dense_unique",
    "expand_ranges",
    "group_order",
]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

KINDS: Final = tuple(EventKind)
KIND_CODE: Final = {kind: code for code, kind in enumerate(KINDS)}
BUY: Final = 0
SELL: Final = 1


class Coded:
    """A dictionary-encoded string column: int32 codes (-1 = null) and the distinct values.

    int32 halves the memory traffic of every gather by code; arithmetic that combines
    codes into wider keys (code x count + code) must widen to int64 first.
    """

    def __init__(self, codes: I32, dictionary: pa.Array) -> None:
        self.codes = codes
        self.dictionary = dictionary

    @cached_property
    def values(self) -> list[str]:
        """The distinct values as Python strings (built on first use: can be large for ids)."""
        values: list[str] = self.dictionary.to_pylist()
        return values

    def __len__(self) -> int:
        return len(self.dictionary)


# Field metadata that read_day puts on a dictionary column whose dictionary holds each value once.
UNIQUE_DICTIONARY: Final = {b"orderguard.dictionary": b"unique"}
# Dictionaries up to this size are checked for repeated values; larger ones must carry the mark.
CHECKED_DICTIONARY: Final = 1 << 16


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    if column.num_chunks == 1:
        return column.chunk(0)
    if pa.types.is_dictionary(column.type):
        return column.unify_dictionaries().combine_chunks()
    return column.combine_chunks()


def _trusted_dictionary(table: pa.Table, name: str, array: pa.DictionaryArray) -> bool:
    """Whether the dictionary's codes can be compared as values (no value listed twice)."""
    if table.schema.field(name).metadata == UNIQUE_DICTIONARY:
        return True
    size = len(array.dictionary)
    return size <= CHECKED_DICTIONARY and pc.count_distinct(array.dictionary, mode="all").as_py() == size


class DayColumns:
    """Events sorted by (ts, seq) as columns. Build with ``from_table``."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.n = table.num_rows
        self._columns: dict[str, pa.Array] = {}

    def column(self, name: str) -> pa.Array:
        """One column as a single contiguous array (combined once, on first use)."""
        if name not in self._columns:
            self._columns[name] = _column(self.table, name)
        return self._columns[name]

    @classmethod
    def from_table(cls, table: pa.Table) -> DayColumns:
        """Sort (only if needed) by (ts, seq) and wrap."""
        ts = np.asarray(_column(table, "ts").cast(pa.int64()).to_numpy(zero_copy_only=False))
        if len(ts) > 1:
            ordered = bool((ts[1:] >= ts[:-1]).all())  # comparisons, no int64 temporaries
            if ordered and not bool((ts[1:] > ts[:-1]).all()):
                seq = _column(table, "seq").to_numpy(zero_copy_only=False)
                ordered = bool(np.all((ts[1:] > ts[:-1]) | (seq[1:] > seq[:-1])))
            if not ordered:
                seq = _column(table, "seq").to_numpy(zero_copy_only=False)
                order = np.lexsort((seq, ts))
                table, ts = table.take(pa.array(order)), ts[order]
        day = cls(table)
        day.__dict__["ts"] = ts
        return day

    @cached_property
    def ts(self) -> I64:
        return np.asarray(self.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False))

    def _index_in(self, name: str, values: list[str]) -> npt.NDArray[np.int8]:
        column = self.column(name)
        if pa.types.is_dictionary(column.type):
            # Look the few dictionary values up once, then one gather per row.
            found = pc.index_in(column.dictionary, value_set=pa.array(values))
            lookup = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False)).astype(np.int8)
            return mapped_codes(column.indices, lookup)
        found = pc.index_in(column, value_set=pa.array(values))
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int8)

    @cached_property
    def kind(self) -> npt.NDArray[np.int8]:
        """Kind codes: the index in KINDS (-1 for none)."""
        return self._index_in("kind", [k.value for k in KINDS])

    def is_kind(self, kind: EventKind) -> BOOL:
        return np.asarray(self.kind == KIND_CODE[kind])

    @cached_property
    def rows_by_kind(self) -> list[I64]:
        order = np.argsort(self.kind, kind="stable")  # int8 keys: NumPy sorts them by radix
        counts = [int(np.count_nonzero(self.kind == code)) for code in range(-1, len(KINDS))]
        bounds = np.cumsum(counts)
        return [
            np.asarray(order[bounds[code] : bounds[code + 1]], dtype=np.int64) for code in range(len(KINDS))
        ]

    def rows(self, kind: EventKind) -> I64:
        """Positions of the events of one kind, ascending (every kind split out at once, on first use)."""
        return self.rows_by_kind[KIND_CODE[kind]]

    @cached_property
    def side(self) -> npt.NDArray[np.int8]:
        """BUY (0), SELL (1) or -1."""
        return self._index_in("side", ["buy", "sell"])

    def floats(self, name: str) -> F64:
        """A float column with nulls as NaN."""
        return np.asarray(pc.fill_null(self.column(name), np.nan).to_numpy(zero_copy_only=False))

    @cached_property
    def qty(self) -> F64:
        return self.floats("qty")

    @cached_property
    def price(self) -> F64:
        return self.floats("price")

    @cached_property
    def records(self) -> I64:
        """records with nulls as -1 (a whole-column copy: detectors read ``records_at`` instead)."""
        return np.asarray(pc.fill_null(self.column("records"), -1).to_numpy(zero_copy_only=False))

    def records_at(self, positions: I64) -> I64:
        """records at some positions, nulls as -1, gathered from the Arrow buffer (no whole-column copy)."""
        found: I64 = self._numbers_at("records", positions, np.dtype(np.int64), -1)
        return found

    def price_at(self, positions: I64) -> F64:
        """price at some positions, nulls as NaN, gathered from the Arrow buffer (no whole-column copy)."""
        found: F64 = self._numbers_at("price", positions, np.dtype(np.float64), np.nan)
        return found

    def _numbers_at(self, name: str, positions: I64, dtype: np.dtype[Any], missing: float) -> Any:
        column = self.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            taken = pc.fill_null(column.take(pa.array(positions, type=pa.int64())), missing)
            return np.asarray(taken.to_numpy(zero_copy_only=False), dtype=dtype)
        width = np.dtype(column.type.to_pandas_dtype())
        offset = column.offset * width.itemsize
        values = np.frombuffer(column.buffers()[1], dtype=width, count=len(column), offset=offset)
        result = values[positions].astype(dtype, copy=False)
        if column.null_count and len(positions):
            bitmap = np.frombuffer(column.buffers()[0], dtype=np.uint8)
            at = positions + column.offset
            result[((bitmap[at >> 3] >> (at & 7).astype(np.uint8)) & 1) == 0] = missing
        return result

    def coded(self, name: str) -> Coded:
        """The dictionary encoding of a string column (computed once per column)."""
        cache: dict[str, Coded] = self.__dict__.setdefault("_coded", {})
        if name not in cache:
            column = self.column(name)
            if not (pa.types.is_dictionary(column.type) and _trusted_dictionary(self.table, name, column)):
                if pa.types.is_dictionary(column.type):
                    column = column.cast(column.type.value_type)
                column = column.dictionary_encode()
            cache[name] = Coded(codes_of(column.indices), column.dictionary)
        return cache[name]

    def present(self, name: str) -> BOOL:
        """Rows where the column is not null."""
        return np.asarray(self.column(name).is_valid().to_numpy(zero_copy_only=False), dtype=bool)

    def positions_from(self, ts_bound: I64) -> I64:
        """For each bound, the first position whose ts >= bound."""
        return search(self.ts, ts_bound, "left")

    def positions_after(self, ts_bound: I64) -> I64:
        """For each bound, the first position whose ts > bound."""
        return search(self.ts, ts_bound, "right")

    def event_ids(self, positions: I64) -> list[str]:
        return self.strings("event_id", positions)  # type: ignore[return-value]

    def strings(self, name: str, positions: I64) -> list[str | None]:
        """Values at a few positions, taken chunk by chunk (never a copy of the whole column)."""
        if name in self._columns:
            return _take(self._columns[name], positions)
        column = self.table.column(name)
        if column.num_chunks == 1:
            return _take(column.chunk(0), positions)
        bounds = np.cumsum([0, *(len(c) for c in column.chunks)])
        chunk_of = np.searchsorted(bounds, positions, side="right") - 1
        values = np.empty(len(positions), dtype=object)
        for chunk in np.unique(chunk_of).tolist():
            rows = np.flatnonzero(chunk_of == chunk)
            values[rows] = _take(column.chunk(chunk), positions[rows] - bounds[chunk])
        result: list[str | None] = values.tolist()
        return result


def _take(array: pa.Array, positions: I64) -> list[str | None]:
    values: list[str | None] = array.take(pa.array(positions, type=pa.int64())).to_pylist()
    return values


class GroupIndex:
    """Rows of one subset sorted by (group, position): range queries within a group.

    A composite key ``group * n + position`` makes every within-group range one
    vectorised ``searchsorted`` over the whole subset: no loop over groups.
    """

    def __init__(self, positions: I64, groups: I64, n: int) -> None:
        self.n = max(n, 1)
        self.ascending_input = bool(np.all(positions[1:] > positions[:-1]))
        keys = groups.astype(np.int64) * self.n + positions
        order = sorted_order(keys, groups.astype(np.int64))
        self.order = order
        self.keys = keys[order]
        self.positions = positions[order]
        self.groups = groups[order]

    def start(self, groups: I64, lo_pos: I64) -> I64:
        """Index into this index of the first row of ``groups`` with position >= lo_pos."""
        groups = groups.astype(np.int64)
        return search(self.keys, groups * self.n + lo_pos, groups=groups)

    def window_first(self, ts: I64, window_ns: int) -> I64:
        """Per row of this index: the index of the first row of its group with ts > its ts - window_ns.

        ``ts`` is per row of this index (group order; non-decreasing within a group, as positions
        are). One searchsorted with ascending probes over (group rank, time) keys when those fit
        62 bits (few groups, or a short span); else over (group rank, row in position order) keys,
        the window's start found among the rows in position order first.
        """
        m = len(self.groups)
        if not m:
            return np.empty(0, dtype=np.int64)
        rank = np.zeros(m, dtype=np.int64)
        np.cumsum(self.groups[1:] != self.groups[:-1], out=rank[1:])
        low = int(ts.min())
        span = int(ts.max()) - low + 2  # so a probe just below a group's keys is above the previous group's
        if (int(rank[-1]) + 1) * span < 1 << 62:
            base = rank * span
            keys = base + (ts - low)
            probes = base + np.maximum(ts - low - window_ns, -1)
            return np.asarray(np.searchsorted(keys, probes, side="right"), dtype=np.int64)
        # Each row's rank in position order: its input index when the input came in position order.
        ranks = self.order if self.ascending_input else np.argsort(np.argsort(self.positions))
        by_position = np.empty(m, dtype=np.int64)
        by_position[ranks] = ts  # ascending
        base = rank * (m + 1)
        keys = base + ranks
        probes = base + search(by_position, ts - window_ns, "right")
        return np.asarray(np.searchsorted(keys, probes, side="left"), dtype=np.int64)

    def range(self, groups: I64, lo_pos: I64, hi_pos: I64) -> tuple[I64, I64]:
        """Index range [lo, hi) into this index of the rows of ``groups`` with lo_pos <= pos < hi_pos."""
        groups = groups.astype(np.int64)
        base = groups * self.n
        lo = search(self.keys, base + lo_pos, groups=groups)
        return lo, search(self.keys, base + np.maximum(hi_pos, lo_pos), groups=groups)
