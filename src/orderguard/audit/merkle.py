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
from collections.abc import Iterable
from typing import Final

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of ``data``."""
    return _sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior-node hash of two child hashes."""
    return _sha256(NODE_PREFIX + left + right).digest()


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
        tree = cls()
        level = bytearray(leaf_hashes)
        tree._levels = [level]
        pair = 2 * HASH_SIZE
        while len(level) >= pair:
            view, parent = memoryview(level), bytearray()
            for offset in range(0, len(level) - pair + 1, pair):
                parent += _sha256(NODE_PREFIX + view[offset : offset + pair]).digest()
            tree._levels.append(parent)
            level = parent
        return tree

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
