"""DayColumns reads dictionary codes from Arrow buffers, whatever the index width, nulls or offset."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.surveillance.columns import DayColumns

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
