"""The batch engine's array helpers agree with the plain NumPy operations they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from orderguard.surveillance.arrays import (
    dense_unique,
    expand_ranges,
    group_order,
    opposite_side_pairs,
    search,
)

small_ints = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(0, 2**40))


class TestArrays:
    @settings(max_examples=60, deadline=None)
    @given(values=small_ints)
    def test_group_order_is_a_stable_argsort(self, values: np.ndarray) -> None:
        """Radix ordering equals NumPy's stable argsort for non-negative integers."""
        assert group_order(values).tolist() == np.argsort(values, kind="stable").tolist()

    @settings(max_examples=60, deadline=None)
    @given(values=hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(0, 5000)))
    def test_dense_unique_is_unique(self, values: np.ndarray) -> None:
        """Counting-based unique gives np.unique's values and inverse."""
        unique, inverse = dense_unique(values)
        expected, expected_inverse = np.unique(values, return_inverse=True)
        assert unique.tolist() == expected.tolist()
        assert inverse.tolist() == expected_inverse.reshape(-1).tolist()

    @settings(max_examples=60, deadline=None)
    @given(haystack=small_ints, needles=small_ints)
    def test_search_matches_searchsorted(self, haystack: np.ndarray, needles: np.ndarray) -> None:
        """Searching with probes in any order gives searchsorted's answers in the probes' order."""
        haystack = np.sort(haystack)
        big = np.repeat(haystack, 5000)  # large enough to take the sorted-probe path
        assert search(big, needles).tolist() == np.searchsorted(big, needles).tolist()

    def test_expand_ranges(self) -> None:
        """Ranges expand to (range index, member) pairs in order; empty ranges vanish."""
        query, member = expand_ranges(np.array([0, 5, 7]), np.array([2, 5, 9]))
        assert query.tolist() == [0, 0, 2, 2]
        assert member.tolist() == [0, 1, 7, 8]


trades = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 3)), max_size=40)


class TestOppositeSidePairs:
    @settings(max_examples=80, deadline=None)
    @given(rows=trades)
    def test_equals_brute_force(self, rows: list[tuple[int, int, int]]) -> None:
        """Every (a, b) in one group, opposite sides, a inside b's window and before b: no more, no less."""
        pos = np.arange(len(rows), dtype=np.int64) * 3
        group = np.array([r[0] for r in rows], dtype=np.int64)
        side = np.array([r[1] for r in rows], dtype=np.int8)
        first = np.maximum(np.arange(len(rows)) - np.array([r[2] for r in rows], dtype=np.int64), 0)
        a, b = opposite_side_pairs(pos, group, side, first)
        expected = {
            (int(pos[i]), int(pos[j]))
            for j in range(len(rows))
            for i in range(int(first[j]), j)
            if group[i] == group[j] and side[i] != side[j]
        }
        assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == sorted(expected)
