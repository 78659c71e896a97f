"""The row-by-row range scan: verification's fallback, and the one that names what is wrong.

Verification splits the index space into ranges of ``2**k`` entries starting at
multiples of ``2**k``. Each such range is a complete subtree of the RFC 9162
tree, so its levels are exact slices of the whole tree's levels: ranges can be
scanned in any order, in any process, and joined afterwards (see
``MerkleTree.from_aligned_ranges``). A range is first checked from column blobs
(``bulk.py``); one that fails there is fetched here as rows (one join, ordered),
checked with whole-list operations, and walked row by row to find the suspects.

``Source`` tells a worker process how to open its own database connection.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import sqlite3
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

from orderguard.audit.merkle import HASH_SIZE, LEAF_PREFIX, parent_level

StoredEntry = tuple[int, bytes, bytes, bytes | None, bytes | None]  # idx, leaf_hash, leaf, salt, payload

_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_pack_head = struct.Struct(">BQ").pack  # format version 1 and the index: a leaf's first 9 bytes
_head = itemgetter(slice(0, 9))
_commitment = itemgetter(slice(9, 9 + HASH_SIZE))
_ONE_HASH_WIDTH = {HASH_SIZE}


@dataclass(frozen=True, slots=True)
class Source:
    """How a worker process reaches the store: ``("sqlite", file path)`` or ``("postgresql", conninfo)``."""

    backend: str
    target: str

    def connect(self) -> Any:
        if self.backend == "sqlite":
            return sqlite3.connect(f"file:{self.target}?mode=ro", uri=True)
        import psycopg

        return psycopg.connect(self.target)


@dataclass(slots=True)
class RangeScan:
    """What one aligned range holds: its tree levels, the rows that need a closer look, and any gap.

    ``levels[0]`` is the concatenated recomputed leaf hashes of the contiguous entries from ``start``;
    ``gap`` is the first missing index, with the next stored index in the range (None if none is).
    """

    start: int
    levels: list[bytes]
    suspects: list[StoredEntry] = field(default_factory=list)
    gap: tuple[int, int | None] | None = None

    @property
    def count(self) -> int:
        return len(self.levels[0]) // HASH_SIZE if self.levels else 0


Columns = tuple[
    Sequence[int], Sequence[bytes], Sequence[bytes], Sequence[bytes | None], Sequence[bytes | None]
]


def fetch_columns(conn: Any, postgres: bool, start: int, end: int) -> Columns:
    """(idxs, leaf hashes, leaves, salts, payloads) of the rows ``start <= idx < end``, in index order.

    Columns rather than rows: the scan works on whole columns. Salt and payload are None where
    the payload row is gone (erased or deleted). Measured alternatives (two ordered scans without
    the index column, plus count queries) were no faster than this one join.
    """
    mark = "%s" if postgres else "?"
    cursor = conn.cursor(binary=True) if postgres else conn.cursor()
    try:
        # The range is repeated on the payload side: without it PostgreSQL plans a hash join over the
        # whole payload table for every range (measured: half the speed).
        cursor.execute(
            "SELECT e.idx, e.leaf_hash, e.leaf, p.salt, p.payload FROM audit_entries e "
            f"LEFT JOIN audit_payloads p ON p.idx = e.idx AND p.idx >= {mark} AND p.idx < {mark} "
            f"WHERE e.idx >= {mark} AND e.idx < {mark} ORDER BY e.idx",
            (start, end, start, end),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
        if postgres:
            conn.rollback()
    if not rows:
        return (), (), (), (), ()
    idxs, leaf_hashes, leaves, salts, payloads = zip(*rows, strict=True)
    return idxs, leaf_hashes, leaves, salts, payloads


def _levels(leaf_hashes: bytes) -> list[bytes]:
    levels = [leaf_hashes]
    while len(levels[-1]) >= 2 * HASH_SIZE:
        levels.append(parent_level(levels[-1]))
    return levels


def scan_columns(start: int, columns: Columns) -> RangeScan:
    """Check the stored entries of a range beginning at ``start``; build the range's levels."""
    idxs, stored_hashes, leaves, salts, payloads = columns
    if not idxs:
        return RangeScan(start, [b""], gap=(start, None))
    gap: tuple[int, int | None] | None = None
    count = len(idxs)
    if idxs[-1] != start + count - 1 or idxs[0] != start:  # keys ascend, so a gap shows at the ends
        count = next(n for n, idx in enumerate(idxs) if idx != start + n)
        gap = (start + count, idxs[count])
        idxs, stored_hashes, leaves = idxs[:count], stored_hashes[:count], leaves[:count]
        salts, payloads = salts[:count], payloads[:count]
    computed = b"".join(map(_digest, map(_sha256, map(LEAF_PREFIX.__add__, leaves))))
    # Joined comparisons are exact only for fixed-width pieces: the slices below are at most 9 and 32
    # bytes, so equal totals mean every piece is whole; stored hashes get an explicit width check.
    intact = (
        computed == b"".join(stored_hashes)
        and {*map(len, stored_hashes)} == _ONE_HASH_WIDTH
        and b"".join(map(_head, leaves)) == b"".join(map(_pack_head, repeat(1), idxs))
        and None not in salts
        and None not in payloads
        and b"".join(map(_digest, map(_sha256, map(bytes.__add__, salts, payloads))))  # type: ignore[arg-type]
        == b"".join(map(_commitment, leaves))
    )
    rows: list[StoredEntry] = (
        [] if intact else list(zip(idxs, stored_hashes, leaves, salts, payloads, strict=True))
    )
    return RangeScan(start, _levels(computed), _suspects(rows, computed), gap)


def _suspects(rows: list[StoredEntry], computed: bytes) -> list[StoredEntry]:
    """The rows of a range that failed a bulk check, found one by one (rare: only tampered ranges)."""
    found = []
    for position, row in enumerate(rows):
        idx, leaf_hash, leaf, salt, payload = row
        if (
            computed[position * HASH_SIZE : (position + 1) * HASH_SIZE] != leaf_hash
            or leaf[:9] != _pack_head(1, idx)
            or salt is None
            or payload is None
            or _sha256(salt + payload).digest() != leaf[9 : 9 + HASH_SIZE]
        ):
            found.append(row)
    return found


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a fetch makes tens of thousands of row tuples (no cycles),
    and each collection would walk them all again. Measured: up to half the time of a full scan."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
