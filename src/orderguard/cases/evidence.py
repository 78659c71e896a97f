"""Evidence from the audit log: entries about a subject, each with an inclusion proof, and the
evidence bundle (``orderguard.audit.bundle``) that an auditor verifies offline.

A proof snapshot carries the leaf itself, so ``verify_proof`` needs nothing but the snapshot and
the tree head it names: hash the leaf, walk the proof, compare with the root.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from pathlib import Path

from orderguard.audit.bundle import export_bundle
from orderguard.audit.encoding import decode_leaf
from orderguard.audit.keys import KeySet
from orderguard.audit.log import AuditLog
from orderguard.audit.merkle import hash_leaf
from orderguard.audit.proofs import ProofError, verify_inclusion
from orderguard.cases.model import CaseError


class AuditEvidence:
    """Finds, proves and exports audit entries; needs the real ``AuditLog``."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def find(
        self,
        *,
        objects: Collection[str] = (),
        actors: Collection[str] = (),
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> list[tuple[int, dict[str, object]]]:
        """(index, header) of entries about one of ``objects`` or done by one of ``actors``,
        with ``start_ns <= ts < end_ns`` when given. Scans the log (fine for case work)."""
        wanted_objects, wanted_actors = set(objects), set(actors)
        size = self.log.head()[0]
        found: list[tuple[int, dict[str, object]]] = []
        for index, _, leaf, _, _ in self.log.store.iter_entries():
            if index >= size:
                break
            header = decode_leaf(leaf).header
            if header.get("object_id") not in wanted_objects and header.get("actor") not in wanted_actors:
                continue
            ts = int(header.get("ts_ns", 0))
            if (start_ns is None or ts >= start_ns) and (end_ns is None or ts < end_ns):
                found.append((index, header))
        return found

    def prove(self, index: int) -> dict[str, object]:
        """A self-contained snapshot of entry ``index`` with its inclusion proof at the current head."""
        stored = self.log.store.entry(index)
        size, root = self.log.head()
        if stored is None or index >= size:
            raise CaseError(f"no audit entry {index} in the log (size {size}); check the index")
        leaf = stored[2]
        return {
            "index": index,
            "header": decode_leaf(leaf).header,
            "leaf": base64.b64encode(leaf).decode(),
            "tree_size": size,
            "root": root.hex(),
            "proof": [node.hex() for node in self.log.inclusion_proof(index, size)],
        }

    def export(self, indexes: list[int], out: Path, keys: KeySet) -> tuple[int, int]:
        """Sign a checkpoint of the current head and write a bundle of ``indexes``; (entries, size)."""
        if self.log.signer is None:
            raise CaseError("the audit log has no signing key; open it with a signer to export a bundle")
        self.log.checkpoint()
        return export_bundle(self.log.store, keys, out, sorted(set(indexes)))


def verify_proof(snapshot: dict[str, object]) -> bool:
    """Does the snapshot's leaf sit at its index in the tree whose root it names?"""
    try:
        leaf = base64.b64decode(str(snapshot["leaf"]), validate=True)
        proof = [bytes.fromhex(str(node)) for node in snapshot["proof"]]  # type: ignore[attr-defined]
        index, size = int(snapshot["index"]), int(snapshot["tree_size"])  # type: ignore[call-overload]
        if decode_leaf(leaf).header != snapshot["header"]:
            return False
        verify_inclusion(index, size, hash_leaf(leaf), proof, bytes.fromhex(str(snapshot["root"])))
    except (KeyError, ValueError, TypeError, ProofError):
        return False
    return True
