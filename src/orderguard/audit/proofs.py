"""Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): generation and verification.

Generation walks the RFC's recursive definitions iteratively and reads every
sibling hash from the tree's cached subtrees. Verification follows the
RFC's step-by-step algorithms (§2.1.3.2, §2.1.4.2) and raises
``ProofError`` naming what failed; it never needs the tree.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from orderguard.audit.merkle import HASH_SIZE, MerkleTree, hash_children, largest_power_of_two_below


class ProofError(ValueError):
    """A proof does not verify, or was asked for sizes it cannot cover."""


def inclusion_proof(tree: MerkleTree, index: int, size: int) -> list[bytes]:
    """``PATH(index, D[0:size])``: the audit path from leaf ``index`` to the root of size ``size``."""
    if not 0 <= index < size <= tree.size:
        raise ProofError(f"no inclusion proof for index {index} in size {size} (tree has {tree.size} leaves)")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        split = start + largest_power_of_two_below(end - start)
        if index < split:
            path.append(tree.subtree_hash(split, end))
            end = split
        else:
            path.append(tree.subtree_hash(start, split))
            start = split
    path.reverse()
    return path


def consistency_proof(tree: MerkleTree, size1: int, size2: int) -> list[bytes]:
    """``PROOF(size1, D[0:size2])``: proves the first ``size1`` leaves are a prefix of the first ``size2``."""
    if not 0 < size1 <= size2 <= tree.size:
        raise ProofError(
            f"no consistency proof from size {size1} to {size2} (need 0 < size1 <= size2 <= {tree.size})"
        )
    proof: list[bytes] = []
    start, end, remaining, complete = 0, size2, size1, True
    while remaining != end - start:
        split = largest_power_of_two_below(end - start)
        if remaining <= split:
            proof.append(tree.subtree_hash(start + split, end))
            end = start + split
        else:
            proof.append(tree.subtree_hash(start, start + split))
            start += split
            remaining -= split
            complete = False
    if not complete:
        proof.append(tree.subtree_hash(start, end))
    proof.reverse()
    return proof


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ProofError(f"proof element {position} is {len(node)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for ``leaf_hash`` at ``index`` (RFC 9162 §2.1.3.2 steps 1-5)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    _check_hashes(proof)
    fn, sn, node = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} elements, more than size {size} needs")
        if fn & 1 or fn == sn:
            node = hash_children(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = hash_children(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} elements, fewer than size {size} needs")
    return node


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ``ProofError`` unless ``proof`` shows ``leaf_hash`` at ``index`` in the tree with ``root``."""
    calculated = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if not hmac.compare_digest(calculated, root):
        raise ProofError(f"inclusion proof for index {index} leads to a different root than size {size}'s")


def _trivially_consistent(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """Settle the cases the RFC algorithm does not cover: size1 > size2, size1 == 0, size1 == size2."""
    if size1 > size2:
        raise ProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing; check size1 > 0")
    if size1 != size2:
        return False
    if proof:
        raise ProofError(f"sizes are equal ({size1}) but the proof is not empty")
    if not hmac.compare_digest(root1, root2):
        raise ProofError(f"sizes are equal ({size1}) but the roots differ")
    return True


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Raise ``ProofError`` unless ``proof`` shows the tree (size1, root1) is a prefix of (size2, root2)."""
    if _trivially_consistent(size1, size2, root1, root2, proof):
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    _check_hashes(proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has more elements than sizes {size1} -> {size2} need")
        if fn & 1 or fn == sn:
            first = hash_children(node, first)
            second = hash_children(node, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = hash_children(second, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof has fewer elements than sizes {size1} -> {size2} need")
    if not hmac.compare_digest(first, root1):
        raise ProofError(f"consistency proof does not lead to the root of size {size1}")
    if not hmac.compare_digest(second, root2):
        raise ProofError(f"consistency proof does not lead to the root of size {size2}")
