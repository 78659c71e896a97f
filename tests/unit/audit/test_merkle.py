"""The Merkle tree and its proofs agree with the RFC 9162 definitions, exhaustively for small sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.audit.merkle import EMPTY_ROOT, MerkleTree, hash_children, hash_leaf
from orderguard.audit.proofs import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

LIMIT = 300


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1, recursive and slow, as the oracle."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hash_children(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaf_hashes(count: int) -> list[bytes]:
    return [hash_leaf(i.to_bytes(4, "big")) for i in range(count)]


LEAVES = leaf_hashes(LIMIT)
TREE = MerkleTree(LEAVES)
ROOTS = [reference_root(LEAVES[:size]) for size in range(LIMIT + 1)]


class TestHashing:
    def test_domain_separation(self) -> None:
        """Leaf and node hashes use the 0x00 and 0x01 prefixes, so a leaf never collides with a node."""
        assert hash_leaf(b"") == hashlib.sha256(b"\x00").digest()
        assert hash_children(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()

    def test_empty_root(self) -> None:
        """The empty tree's root is SHA-256 of the empty string."""
        assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()

    def test_roots_of_every_size(self) -> None:
        """The incremental tree's root at every size up to 300 equals the recursive definition."""
        for size in range(LIMIT + 1):
            assert TREE.root(size) == ROOTS[size], size

    def test_incremental_equals_bulk(self) -> None:
        """Appending one leaf at a time gives the same roots as building from all leaves."""
        tree = MerkleTree()
        for size, leaf in enumerate(LEAVES[:64], start=1):
            tree.append(leaf)
            assert tree.root() == ROOTS[size]

    def test_rejects_short_leaf_hash(self) -> None:
        """A leaf hash that is not 32 bytes is refused."""
        with pytest.raises(ValueError, match="32 bytes"):
            MerkleTree().append(b"short")


class TestExhaustive:
    def test_every_inclusion_proof_up_to_300(self) -> None:
        """Every leaf of every tree size up to 300 has an inclusion proof that verifies against the root."""
        for size in range(1, LIMIT + 1):
            for index in range(size):
                proof = inclusion_proof(TREE, index, size)
                verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])

    def test_every_consistency_proof_up_to_300(self) -> None:
        """Every pair of sizes 0 < m <= n <= 300 has a consistency proof that verifies."""
        for size2 in range(1, LIMIT + 1):
            for size1 in range(1, size2 + 1):
                proof = consistency_proof(TREE, size1, size2)
                verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)

    def test_inclusion_rejects_neighbours(self) -> None:
        """A valid proof fails for the wrong index or the wrong leaf."""
        for size in range(2, 80):
            for index in range(size):
                proof = inclusion_proof(TREE, index, size)
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, LEAVES[(index + 1) % size], proof, ROOTS[size])
                with pytest.raises(ProofError):
                    verify_inclusion((index + 1) % size, size, LEAVES[index], proof, ROOTS[size])


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    size2 = draw(st.integers(min_value=LIMIT + 1, max_value=2500))
    size1 = draw(st.integers(min_value=1, max_value=size2))
    return leaf_hashes(size2), size1, size2


class TestBeyond300:
    @settings(max_examples=25, deadline=None)
    @given(tree_and_sizes(), st.data())
    def test_proofs_verify_and_tampering_fails(
        self, case: tuple[list[bytes], int, int], data: st.DataObject
    ) -> None:
        """For larger trees, proofs verify and a flipped bit in any proof element makes them fail."""
        leaves, size1, size2 = case
        tree = MerkleTree(leaves)
        root1, root2 = reference_root(leaves[:size1]), reference_root(leaves)
        proof = consistency_proof(tree, size1, size2)
        verify_consistency(size1, size2, root1, root2, proof)
        index = data.draw(st.integers(min_value=0, max_value=size2 - 1))
        path = inclusion_proof(tree, index, size2)
        verify_inclusion(index, size2, leaves[index], path, root2)
        where = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        bad = [*path]
        bad[where] = bytes([bad[where][0] ^ 1]) + bad[where][1:]
        with pytest.raises(ProofError):
            verify_inclusion(index, size2, leaves[index], bad, root2)
        if proof:
            bad_proof = [*proof]
            bad_proof[-1] = bytes([bad_proof[-1][0] ^ 1]) + bad_proof[-1][1:]
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, root1, root2, bad_proof)


def levels_of(hashes: list[bytes]) -> list[bytes]:
    """The per-level hash arrays of a tree over ``hashes``, as a range scan returns them."""
    return [bytes(level) for level in MerkleTree.from_concatenated(b"".join(hashes))._levels]


class TestBulkBuilding:
    @pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 8, 13, 64, 65, 300])
    def test_bulk_builders_equal_the_definition(self, count: int) -> None:
        """Batched extension and joined aligned ranges give the RFC root at every size."""
        hashes = leaf_hashes(count)
        expected = [reference_root(hashes[:size]) if size <= 65 else ROOTS[size] for size in range(count + 1)]
        batched, start, widths = MerkleTree(), 0, [1, 7, 2]
        while start < count:  # uneven batches, so new parents land at every depth
            width = widths[start % 3]
            batched.extend_concatenated(b"".join(hashes[start : start + width]))
            start += width
        assert [batched.root(size) for size in range(count + 1)] == expected
        for range_size in (1, 4, 64):
            ranges = [levels_of(hashes[s : s + range_size]) for s in range(0, count, range_size)]
            joined = MerkleTree.from_aligned_ranges(ranges)
            assert [joined.root(size) for size in range(count + 1)] == expected

    def test_misaligned_ranges_are_refused(self) -> None:
        """Ranges whose levels cannot be slices of one tree are refused, not silently joined."""
        three = levels_of(leaf_hashes(3))
        with pytest.raises(ValueError, match="not aligned"):
            MerkleTree.from_aligned_ranges([three, three])

    def test_odd_length_concatenation_is_refused(self) -> None:
        """Concatenated leaf hashes must be whole 32-byte hashes."""
        with pytest.raises(ValueError, match="multiple of 32"):
            MerkleTree().extend_concatenated(b"x" * 33)
