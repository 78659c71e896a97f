"""Array helpers for the batch detectors: sorting without comparison sorts, searching, expanding ranges.

Sorting millions of int64 keys with a comparison sort dominates a day's scan, so keys that
are (small group, increasing position) pairs are ordered by LSD radix on 16-bit digits; a
searchsorted with its probes sorted stays in cache.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

CACHE_FRIENDLY: Final = 1 << 18  # elements (2 MiB of int64)


def dense_unique(values: I64) -> tuple[I64, I64]:
    """np.unique(values, return_inverse=True) for non-negative ints of a modest range, without sorting."""
    if not len(values):
        return values, values
    size = int(values.max()) + 1
    if size > 64 * len(values) + 1_000_000:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    present = np.flatnonzero(np.bincount(values, minlength=size)).astype(np.int64)
    remap = np.full(size, -1, dtype=np.int64)
    remap[present] = np.arange(len(present), dtype=np.int64)
    return present, remap[values]


def _is_sorted(values: I64) -> bool:
    return len(values) < 2 or bool(np.all(values[1:] >= values[:-1]))


def group_order(groups: I64) -> I64:
    """A stable argsort of non-negative integers: LSD radix on 16-bit digits, O(n) per digit.

    NumPy sorts 16-bit integers stably by radix; wider keys would take a comparison sort,
    several times slower on millions of rows.
    """
    top = int(groups.max()) if len(groups) else 0
    order: I64 | None = None  # None: the identity, not materialised (the first pass reads groups as is)
    shift = 0
    while True:
        current = groups if order is None else groups[order]
        step = np.argsort(((current >> shift) & 0xFFFF).astype(np.uint16), kind="stable")
        order = step if order is None else order[step]
        shift += 16
        if top >> shift == 0:
            return np.asarray(order, dtype=np.int64)


def sorted_order(keys: I64, groups: I64 | None = None) -> I64:
    """An argsort of ``keys``; by radix on ``groups`` when keys are (group, increasing position) pairs."""
    if groups is not None and len(groups) and int(groups.min()) >= 0:
        order = group_order(groups)
        if _is_sorted(keys[order]):
            return order
    return np.asarray(np.argsort(keys), dtype=np.int64)


def search(haystack: I64, needles: I64, side: str = "left", groups: I64 | None = None) -> I64:
    """np.searchsorted for needles in any order; into a big haystack, probes go sorted (cache-friendly)."""
    small = len(haystack) <= CACHE_FRIENDLY  # random probes into a cache-sized array are cheap
    if small or _is_sorted(needles):
        return np.asarray(np.searchsorted(haystack, needles, side=side), dtype=np.int64)  # type: ignore[call-overload]
    order = sorted_order(needles, groups)
    found = np.empty(len(needles), dtype=np.int64)
    found[order] = np.searchsorted(haystack, needles[order], side=side)  # type: ignore[call-overload]
    return found


def expand_ranges(lo: I64, hi: I64) -> tuple[I64, I64]:
    """For half-open ranges [lo[i], hi[i]): (i repeated per member, each member), in order."""
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    query = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    if total == 0:
        return query, np.empty(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    member = lo[query] + (np.arange(total, dtype=np.int64) - starts[query])
    return query, member


def opposite_side_pairs(pos: I64, group: I64, side: npt.NDArray[np.int8], first: I64) -> tuple[I64, I64]:
    """Pairs (a, b) of rows in one group on opposite sides with first[b] <= a < b (row indices).

    ``pos`` ascending; ``first[b]`` is the first row index b's window admits. One sort by
    (group, row) and one searchsorted with ascending probes; each side's rows are counted by
    a running sum, so the rows of the other side inside b's window are one contiguous range.
    Returns positions (pos[a], pos[b]).
    """
    m = len(pos)
    if not m:
        return pos, pos
    keys = np.sort(group.astype(np.int64) * m + np.arange(m, dtype=np.int64))
    row = keys % m
    group_start = np.searchsorted(keys, (keys // m) * m + first[row])  # ascending probes
    sides = side[row]
    result: list[tuple[I64, I64]] = []
    for mine in (0, 1):
        other = np.flatnonzero(sides == 1 - mine)
        before = np.r_[0, np.cumsum(sides == 1 - mine)]  # other-side rows before each index
        queries = np.flatnonzero(sides == mine)
        q, member = expand_ranges(before[group_start[queries]], before[queries])
        result.append((pos[row[other[member]]], pos[row[queries[q]]]))
    return np.concatenate([result[0][0], result[1][0]]), np.concatenate([result[0][1], result[1][1]])
