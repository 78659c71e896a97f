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
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine

from orderguard.audit.bulk import (
    open_worker_store,
    scan_range_at,
    scan_worker_range,
)
from orderguard.audit.checkpoint import Checkpoint, CheckpointError, verify_note
from orderguard.audit.encoding import PREFIX_SIZE, EncodingError, decode_leaf
from orderguard.audit.keys import KeySet
from orderguard.audit.merkle import MerkleTree, hash_leaf
from orderguard.audit.proofs import ProofError, consistency_proof, verify_consistency
from orderguard.audit.scan import RangeScan, StoredEntry
from orderguard.audit.store import AuditStore

DEFAULT_RANGE_SIZE = 1 << 15  # entries per scanned range: about 15 MB of rows in flight per worker


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


def _scan_entries(store: AuditStore, report: VerifyReport, workers: int, range_size: int) -> MerkleTree:
    """Re-hash every stored entry into a fresh tree; stop at the first gap (later positions are unknown)."""
    erasures = store.erasures()
    findings = report.findings
    joined: list[list[bytes]] = []
    size = 0
    for scan in _range_scans(store, workers, range_size):
        for row in scan.suspects:
            _explain_entry(row, hash_leaf(row[2]), erasures, findings)
        joined.append(scan.levels)
        size = scan.start + scan.count
        gap = scan.gap
        if gap is None and scan.count < range_size:  # a short range: the log ends here, or rows are gone
            gap = (size, None)
        if gap is not None:
            expected, next_idx = gap
            if next_idx is None:
                next_idx = store.next_index_from(expected)
            if next_idx is not None:
                findings.append(
                    Finding(expected, f"entry missing: the next stored index is {next_idx} (deleted?)")
                )
                break
    for idx, (erasure_idx, _) in erasures.items():
        if not idx < erasure_idx < size:
            findings.append(
                Finding(idx, f"erasure record points at entry {erasure_idx}, which cannot record it")
            )
        else:
            erasure_row = store.entry(erasure_idx)
            if erasure_row is not None:
                _check_erasure_entry(erasure_idx, erasure_row[2], idx, findings)
    return MerkleTree.from_aligned_ranges(joined)


def _range_scans(store: AuditStore, workers: int, range_size: int) -> Iterator[RangeScan]:
    """Scans of ``[0, range_size)``, ``[range_size, 2 * range_size)``, ... up to the highest stored index.

    With ``workers > 1`` and a file or server store, ranges are scanned in forked processes (hashing
    releases no GIL for entries this small, so threads would not help); results arrive in index order.
    One process scans range after range on one connection. (Fetching the next range in a thread
    while hashing the current one was measured and dropped: it lost 20 % on the loaded machine and
    gained nothing measurable on a quiet one.)
    """
    end = store.index_bound()
    starts = range(0, end, range_size)
    source = store.source()
    if workers > 1 and source is not None and len(starts) > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=min(workers, len(starts)),
            mp_context=context,
            initializer=open_worker_store,
            initargs=(source,),
        ) as pool:
            yield from pool.map(scan_worker_range, starts, [s + range_size for s in starts])
        return
    with store.raw_connection() as (conn, postgres):
        for start in starts:
            yield scan_range_at(conn, postgres, start, start + range_size)


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


def verify_log(
    engine: Engine,
    keys: KeySet,
    kept: Sequence[tuple[str, str]] = (),
    *,
    workers: int = 1,
    range_size: int = DEFAULT_RANGE_SIZE,
) -> VerifyReport:
    """Verify the log in ``engine`` against ``keys``; ``kept`` lists (name, note) of external checkpoints.

    With ``workers > 1``, that many forked processes scan ranges of ``range_size`` entries (a power
    of two) in parallel. One is the default: on the shared 2-core benchmark machine two workers
    gained in some runs and lost in others (docs/benchmarks.md), so parallelism is opt-in.
    """
    if range_size < 1 or range_size & (range_size - 1):
        raise ValueError(f"range_size must be a power of two, got {range_size}")
    started = time.perf_counter()
    store = AuditStore(engine)
    report = VerifyReport()
    tree = _scan_entries(store, report, workers, range_size)
    report.size, report.root = tree.size, tree.root()
    stored = [
        (f"stored checkpoint at size {size} ({name})", note) for size, name, note in store.checkpoints()
    ]
    _check_checkpoints(tree, stored + list(kept), keys, report)
    report.seconds = time.perf_counter() - started
    return report
