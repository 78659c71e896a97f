"""Full verification of a stored log: re-hash every entry, rebuild the tree, check every checkpoint.

Nothing stored is trusted: leaf hashes are recomputed from the leaf bytes,
payloads against their commitments, positions against the index each leaf
claims, and roots against checkpoints whose signatures a trusted key set
vouches for. A checkpoint kept outside the database (``kept``) catches what
no stored data can: a rollback of the whole store to an earlier,
self-consistent state. A changed root can only be located between the
largest matching checkpoint and the smallest mismatching one; the finding
names the first index of that range.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from orderguard.audit.checkpoint import Checkpoint, CheckpointError, verify_note
from orderguard.audit.encoding import PREFIX_SIZE, EncodingError, decode_leaf
from orderguard.audit.keys import KeySet
from orderguard.audit.merkle import MerkleTree
from orderguard.audit.proofs import ProofError, consistency_proof, verify_consistency
from orderguard.audit.store import AuditStore, StoredEntry


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem; ``index`` is the first log index it concerns (None for a checkpoint-only problem)."""

    index: int | None
    problem: str

    def __str__(self) -> str:
        return self.problem if self.index is None else f"index {self.index}: {self.problem}"


@dataclass(slots=True)
class VerifyReport:
    size: int = 0
    root: bytes = b""
    checkpoints_verified: int = 0
    covered_size: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        """The finding with the lowest index (index-less findings come last)."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.index is None, f.index or 0))


def _scan_entries(store: AuditStore, report: VerifyReport) -> MerkleTree:
    """Re-hash every stored entry into a fresh tree; stop at the first gap (later positions are unknown)."""
    erasures = store.erasures()
    erasure_entries = {erasure_idx: idx for idx, (erasure_idx, _) in erasures.items()}
    sha256, findings = hashlib.sha256, report.findings
    level0 = bytearray()
    expected = 0
    for chunk in store.iter_entry_chunks():
        for idx, leaf_hash, leaf, salt, payload in chunk:
            if idx != expected:
                findings.append(
                    Finding(expected, f"entry missing: the next stored index is {idx} (deleted?)")
                )
                return MerkleTree.from_concatenated(level0)
            computed = sha256(b"\x00" + leaf).digest()
            level0 += computed
            expected += 1
            # The common case costs one comparison each; the details are worked out only on a mismatch.
            if (
                computed != leaf_hash
                or leaf[1:9] != idx.to_bytes(8, "big")
                or payload is None
                or salt is None
                or sha256(salt + payload).digest() != leaf[9:PREFIX_SIZE]
                or idx in erasure_entries
            ):
                _explain_entry((idx, leaf_hash, leaf, salt, payload), computed, erasures, findings)
                if idx in erasure_entries:
                    _check_erasure_entry(idx, leaf, erasure_entries[idx], findings)
    for idx, (erasure_idx, _) in erasures.items():
        if not idx < erasure_idx < expected:
            findings.append(
                Finding(idx, f"erasure record points at entry {erasure_idx}, which cannot record it")
            )
    return MerkleTree.from_concatenated(level0)


def _explain_entry(
    row: StoredEntry, computed: bytes, erasures: dict[int, tuple[int, str]], findings: list[Finding]
) -> None:
    idx, leaf_hash, leaf, salt, payload = row
    if len(leaf) < PREFIX_SIZE or leaf[0] != 1:
        findings.append(Finding(idx, "leaf data is not a version-1 leaf (row rewritten?)"))
    elif int.from_bytes(leaf[1:9], "big") != idx:
        claimed = int.from_bytes(leaf[1:9], "big")
        findings.append(Finding(idx, f"row holds the entry of index {claimed} (rows moved or reordered)"))
    if computed != leaf_hash:
        findings.append(Finding(idx, "stored leaf hash does not match the leaf data (row edited)"))
    if payload is None or salt is None:
        if idx not in erasures:
            findings.append(Finding(idx, "payload missing without a recorded erasure (row deleted?)"))
    elif hashlib.sha256(salt + payload).digest() != leaf[9:PREFIX_SIZE]:
        findings.append(Finding(idx, "payload or salt does not match the leaf's commitment (payload edited)"))


def _check_erasure_entry(erasure_idx: int, leaf: bytes, erased: int, findings: list[Finding]) -> None:
    try:
        header = decode_leaf(leaf).header
    except EncodingError as exc:
        findings.append(Finding(erased, f"erasure entry {erasure_idx} is unreadable ({exc})"))
        return
    if header.get("action") != "erased" or header.get("object_id") != str(erased):
        findings.append(
            Finding(erased, f"erasure record cites entry {erasure_idx}, which is not its erasure")
        )


def _check_checkpoints(
    tree: MerkleTree, notes: list[tuple[str, str]], keys: KeySet, report: VerifyReport
) -> None:
    """Verify each note's signature, then its root against the rebuilt tree; locate mismatches."""
    trusted: list[tuple[Checkpoint, str]] = []
    for where, note in notes:
        try:
            checkpoint, _ = verify_note(note, keys, where)
        except CheckpointError as exc:
            report.findings.append(Finding(None, str(exc)))
            continue
        trusted.append((checkpoint, where))
    origins = {checkpoint.origin for checkpoint, _ in trusted}
    if len(origins) > 1:
        report.findings.append(Finding(None, f"checkpoints name different logs: {sorted(origins)}"))
    matching = [0]
    mismatching: list[int] = []
    for checkpoint, where in sorted(trusted, key=lambda pair: pair[0].size):
        if checkpoint.size > tree.size:
            report.findings.append(
                Finding(
                    tree.size,
                    f"{where} covers {checkpoint.size} entries but the log has {tree.size}: "
                    f"entries {tree.size}..{checkpoint.size - 1} are gone (truncated or rolled back)",
                )
            )
        elif tree.root(checkpoint.size) != checkpoint.root:
            mismatching.append(checkpoint.size)
        else:
            matching.append(checkpoint.size)
            report.checkpoints_verified += 1
            report.covered_size = max(report.covered_size, checkpoint.size)
            _prove_extension(tree, checkpoint, report)
    if mismatching:
        bad = mismatching[0]
        good = max(size for size in matching if size < bad)
        report.findings.append(
            Finding(
                good,
                f"entries {good}..{bad - 1} changed: the root of the first {bad} entries does not match "
                f"its signed checkpoint (the last matching checkpoint covers {good})",
            )
        )


def _prove_extension(tree: MerkleTree, checkpoint: Checkpoint, report: VerifyReport) -> None:
    if checkpoint.size in (0, tree.size):
        return
    try:
        proof = consistency_proof(tree, checkpoint.size, tree.size)
        verify_consistency(checkpoint.size, tree.size, checkpoint.root, tree.root(), proof)
    except ProofError as exc:
        report.findings.append(
            Finding(checkpoint.size, f"log does not extend checkpoint {checkpoint.size}: {exc}")
        )


def verify_log(engine: Engine, keys: KeySet, kept: Sequence[tuple[str, str]] = ()) -> VerifyReport:
    """Verify the log in ``engine`` against ``keys``; ``kept`` lists (name, note) of external checkpoints."""
    started = time.perf_counter()
    store = AuditStore(engine)
    report = VerifyReport()
    tree = _scan_entries(store, report)
    report.size, report.root = tree.size, tree.root()
    stored = [
        (f"stored checkpoint at size {size} ({name})", note) for size, name, note in store.checkpoints()
    ]
    _check_checkpoints(tree, stored + list(kept), keys, report)
    report.seconds = time.perf_counter() - started
    return report
