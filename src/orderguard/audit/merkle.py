"""An RFC 9162 Merkle tree kept as per-level arrays of complete-subtree hashes.

``levels[k]`` holds, back to back, the 32-byte hash of every complete, aligned
subtree of ``2**k`` leaves appended so far. An append adds one leaf hash and
the O(log n) parents it completes; the hash of any range the RFC recursions
ask for (``MTH(D[start:end])``) is then a lookup, or O(log n) hashes at the
right edge. Hashing follows RFC 9162 §2.1.1: leaf = SHA-256(0x00 || data),
node = SHA-256(0x01 || left || right).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Final

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_iter_pairs = struct.Struct(f"{2 * HASH_SIZE}s").iter_unpack
_first = itemgetter(0)


def hash_leaf(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of ``data``."""
    return _sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior-node hash of two child hashes."""
    return _sha256(NODE_PREFIX + left + right).digest()


def parent_level(level: bytes) -> bytes:
    """The parents of the complete pairs in ``level`` (hashes laid end to end); an odd last hash is left out.

    Every step is a ``map`` over C functions, so building a level runs no Python code per node;
    ``struct.iter_unpack`` cuts the pairs out a third faster than slicing with ``slice`` objects.
    """
    end = len(level) - len(level) % (2 * HASH_SIZE)
    pairs = map(_first, _iter_pairs(memoryview(level)[:end]))
    return b"".join(map(_digest, map(_sha256, map(NODE_PREFIX.__add__, pairs))))


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2): the RFC's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only tree over leaf hashes with cached complete subtrees."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash and every parent it completes."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        levels = self._levels
        index = len(levels[0]) // HASH_SIZE
        levels[0] += leaf_hash
        node, level = leaf_hash, 0
        while index & 1:
            offset = (index - 1) * HASH_SIZE
            node = _sha256(NODE_PREFIX + levels[level][offset : offset + HASH_SIZE] + node).digest()
            level += 1
            index >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node

    @classmethod
    def from_concatenated(cls, leaf_hashes: bytes | bytearray) -> MerkleTree:
        """A tree built level by level from leaf hashes laid end to end (bulk path: one hash per node)."""
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError(f"concatenated leaf hashes must be a multiple of {HASH_SIZE} bytes")
        return cls.from_aligned_ranges([[bytes(leaf_hashes)]])

    @classmethod
    def from_aligned_ranges(cls, ranges: Sequence[Sequence[bytes]]) -> MerkleTree:
        """Join the levels of consecutive ranges, each starting where the previous one ends.

        Every range but the last must hold a power of two of leaves, ``2**k``, at least as many as
        the range after it: each then starts at a multiple of its own size, so its level ``j`` hashes
        (``j <= k``) are exactly the whole tree's level ``j`` hashes over that range. Levels the
        ranges do not reach are built from the highest joined one.
        """
        levels = [
            bytearray(b"".join(r[depth] for r in ranges if len(r) > depth))
            for depth in range(max((len(r) for r in ranges), default=1))
        ]
        expected = len(levels[0]) // HASH_SIZE
        for depth, level in enumerate(levels):
            if len(level) != (expected >> depth) * HASH_SIZE:
                raise ValueError(
                    f"ranges are not aligned: level {depth} has {len(level) // HASH_SIZE} hashes"
                )
        while len(levels[-1]) >= 2 * HASH_SIZE:
            levels.append(bytearray(parent_level(bytes(levels[-1]))))
        tree = cls()
        tree._levels = levels
        return tree

    def extend_concatenated(self, leaf_hashes: bytes) -> None:
        """Append leaf hashes laid end to end, adding the parents they complete level by level."""
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError(f"concatenated leaf hashes must be a multiple of {HASH_SIZE} bytes")
        levels, new, depth = self._levels, leaf_hashes, 0
        while new:
            level = levels[depth]
            first_pair = len(level) // (2 * HASH_SIZE)  # parents that already exist one level up
            level += new
            last_pair = len(level) // (2 * HASH_SIZE)
            if last_pair == first_pair:
                return
            if depth + 1 == len(levels):
                levels.append(bytearray())
            new = parent_level(bytes(level[first_pair * 2 * HASH_SIZE : last_pair * 2 * HASH_SIZE]))
            depth += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes in order."""
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf ``index``."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} outside tree of size {self.size}")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for ``0 <= start < end <= size``."""
        if not 0 <= start < end <= self.size:
            raise ValueError(f"range [{start}, {end}) is not a non-empty range of a tree of size {self.size}")
        return self._range_hash(start, end)

    def _range_hash(self, start: int, end: int) -> bytes:
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            offset = (start >> level) * HASH_SIZE
            return bytes(self._levels[level][offset : offset + HASH_SIZE])
        split = start + largest_power_of_two_below(width)
        return hash_children(self._range_hash(start, split), self._range_hash(split, end))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all); the empty tree hashes to SHA-256("")."""
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return self.subtree_hash(0, size)
