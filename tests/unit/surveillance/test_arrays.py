"""The batch engine's array helpers agree with the plain NumPy operations they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from orderguard.surveillance.arrays import dense_unique, expand_ranges, group_order, search

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
