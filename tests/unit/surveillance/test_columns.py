"""DayColumns reads dictionary codes from Arrow buffers, whatever the index width, nulls or offset."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.surveillance.columns import DayColumns, GroupIndex

VALUES = ["a", "b", "c", "d"]


def _expected(values: list[str | None], start: int) -> list[int]:
    return [-1 if v is None else VALUES.index(v) for v in values[start:]]


class TestDictionaryCodes:
    @settings(max_examples=60, deadline=None)
    @given(
        values=st.lists(st.sampled_from([*VALUES, None]), max_size=40),
        start=st.integers(0, 12),
        width=st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64()]),
    )
    def test_codes_equal_dictionary_positions(
        self, values: list[str | None], start: int, width: pa.DataType
    ) -> None:
        """Each row's code is its value's position in the dictionary and -1 for null, also on a slice."""
        start = min(start, len(values))
        indices = pa.array([None if v is None else VALUES.index(v) for v in values], type=width)
        column = pa.DictionaryArray.from_arrays(indices, pa.array(VALUES)).slice(start)
        table = pa.table({"ts": pa.array(range(len(values) - start), type=pa.int64()), "account": column})
        coded = DayColumns(table).coded("account")
        assert coded.codes.tolist() == _expected(values, start)
        assert coded.values == VALUES


SIDES = ["sell", "hold", "buy"]  # "hold" is not a side: it maps to -1 like a null


class TestLookedUpCodes:
    @settings(max_examples=60, deadline=None)
    @given(
        values=st.lists(st.sampled_from([*SIDES, None]), max_size=40),
        start=st.integers(0, 12),
        width=st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64()]),
    )
    def test_side_codes_from_a_dictionary_column(
        self, values: list[str | None], start: int, width: pa.DataType
    ) -> None:
        """side is BUY 0, SELL 1 and -1 for null or any other value, whatever the index width or offset."""
        start = min(start, len(values))
        indices = pa.array([None if v is None else SIDES.index(v) for v in values], type=width)
        column = pa.DictionaryArray.from_arrays(indices, pa.array(SIDES)).slice(start)
        table = pa.table({"ts": pa.array(range(len(values) - start), type=pa.int64()), "side": column})
        expected = [{"buy": 0, "sell": 1}.get(v or "", -1) for v in values[start:]]
        assert DayColumns(table).side.tolist() == expected


class TestWindowFirst:
    @settings(max_examples=120, deadline=None)
    @given(
        rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), max_size=40),
        window=st.integers(0, 12),
        scale=st.sampled_from([1, 10**17]),
        reverse=st.booleans(),
    )
    def test_first_row_of_the_group_inside_the_window(
        self, rows: list[tuple[int, int]], window: int, scale: int, reverse: bool
    ) -> None:
        """A window starts at the group's first row with ts > the row's ts - window, even years apart."""
        times = sorted(t * scale for _, t in rows)  # positions in time order, as a day's are
        groups = np.array([g for g, _ in rows], dtype=np.int64)
        positions = np.arange(len(rows), dtype=np.int64)
        step = -1 if reverse else 1  # the index may be built from rows in any order
        index = GroupIndex(positions[::step], groups[::step], len(rows))
        ts = np.array(times, dtype=np.int64)[index.positions] if rows else np.empty(0, dtype=np.int64)
        found = index.window_first(ts, window * scale).tolist()
        expected = []
        for i in range(len(rows)):
            same = [j for j in range(len(rows)) if index.groups[j] == index.groups[i]]
            inside = [j for j in same if ts[j] > ts[i] - window * scale]
            expected.append(min(inside) if inside else max(same) + 1)
        assert found == expected


class TestNumbersAt:
    @settings(max_examples=60, deadline=None)
    @given(
        values=st.lists(st.one_of(st.none(), st.integers(0, 10**6)), min_size=1, max_size=40),
        start=st.integers(0, 12),
        picks=st.lists(st.integers(0, 39), max_size=20),
    )
    def test_values_at_positions_equal_the_filled_column(
        self, values: list[int | None], start: int, picks: list[int]
    ) -> None:
        """records_at and price_at equal the whole filled column at those positions, also on a slice."""
        start = min(start, len(values) - 1)
        table = pa.table(
            {
                "records": pa.array(values, type=pa.int64()).slice(start),
                "price": pa.array([None if v is None else v / 4 for v in values], type=pa.float64()).slice(
                    start
                ),
            }
        )
        day = DayColumns(table)
        positions = np.array([p % (len(values) - start) for p in picks], dtype=np.int64)
        assert day.records_at(positions).tolist() == day.records[positions].tolist()
        np.testing.assert_array_equal(day.price_at(positions), day.price[positions])
