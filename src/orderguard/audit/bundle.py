"""Evidence bundles: entries with inclusion proofs, a signed checkpoint and the public keys, in one JSON file.

An auditor checks a bundle offline with ``verify_bundle`` and nothing else:
the checkpoint's signature, each entry's position and leaf hash, each
inclusion proof against the checkpoint root, and each payload against its
commitment. The bundle names the keys it carries; an auditor who holds the
firm's published key set passes it to pin them instead.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from orderguard.audit.checkpoint import CheckpointError, verify_note
from orderguard.audit.encoding import (
    PREFIX_SIZE,
    EncodingError,
    decode_leaf,
    decode_payload,
    payload_commitment,
)
from orderguard.audit.keys import KeyFormatError, KeySet
from orderguard.audit.merkle import MerkleTree, hash_leaf
from orderguard.audit.proofs import ProofError, inclusion_proof, verify_inclusion
from orderguard.audit.scan import StoredEntry
from orderguard.audit.store import MAX_RANGE, AuditRangeError, AuditStore

BUNDLE_FORMAT: Final = "orderguard-audit-bundle/1"


class BundleError(ValueError):
    """A bundle cannot be written or read; the message names the problem and the place."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def export_bundle(
    store: AuditStore, keys: KeySet, out: Path, indexes: list[int] | None = None
) -> tuple[int, int]:
    """Write a bundle of ``indexes`` (default: all) proven against the newest trusted checkpoint.

    Returns (entries written, checkpoint size).
    """
    best: tuple[int, str] | None = None
    for size, name, note in store.checkpoints():
        try:
            verify_note(note, keys, f"stored checkpoint at size {size} ({name})")
        except CheckpointError:
            continue
        if best is None or size > best[0]:
            best = (size, note)
    if best is None or best[0] == 0:
        raise BundleError(
            "no stored checkpoint signed by a trusted key; run `orderguard audit checkpoint` first"
        )
    size, note = best
    tree = MerkleTree(leaf_hash for idx, leaf_hash in store.iter_leaf_hashes() if idx < size)
    wanted = list(range(size)) if indexes is None else indexes
    outside = [index for index in wanted if not 0 <= index < size]
    if outside:
        raise BundleError(f"entry {outside[0]} is not covered by the checkpoint of size {size}")
    entries: list[dict[str, Any]] = []
    for stored in _stored_entries(store, wanted):
        index, _, leaf, salt, payload = stored
        entries.append(
            {
                "index": index,
                "leaf": _b64(leaf),
                "salt": None if salt is None else _b64(salt),
                "payload": None if payload is None else _b64(payload),
                "proof": [_b64(node) for node in inclusion_proof(tree, index, size)],
            }
        )
    bundle = {"format": BUNDLE_FORMAT, "checkpoint": note, "keys": keys.to_text(), "entries": entries}
    out.write_text(json.dumps(bundle, indent=1) + "\n")
    return len(entries), size


def _stored_entries(store: AuditStore, wanted: list[int]) -> Iterator[StoredEntry]:
    """The entries at ``wanted`` (all inside the log), in that order: each run of consecutive
    indexes is one range read instead of one query per entry."""
    start = 0
    while start < len(wanted):
        stop = start + 1
        while stop < len(wanted) and wanted[stop] == wanted[stop - 1] + 1 and stop - start < MAX_RANGE:
            stop += 1
        try:
            yield from store.entries(wanted[start], wanted[stop - 1] + 1)
        except AuditRangeError as exc:
            raise BundleError(str(exc)) from None
        start = stop


@dataclass(slots=True)
class BundleReport:
    size: int = 0
    signed_by: str = ""
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _field(record: dict[str, Any], name: str, where: str) -> bytes | None:
    value = record.get(name)
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{where}: field {name!r} is not base64") from exc


def verify_bundle(path: Path, keys: KeySet | None = None) -> BundleReport:
    """Check a bundle offline; ``keys`` pins trusted keys (default: the keys the bundle carries)."""
    try:
        bundle = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"bundle {path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"bundle {path}: 'format' is not {BUNDLE_FORMAT!r}; export it with `orderguard audit export`"
        )
    report = BundleReport()
    try:
        trusted = keys or KeySet.parse(str(bundle.get("keys", "")), f"bundle {path} field 'keys'")
        checkpoint, report.signed_by = verify_note(
            str(bundle.get("checkpoint", "")), trusted, "bundle checkpoint"
        )
    except (KeyFormatError, CheckpointError) as exc:
        report.problems.append(str(exc))
        return report
    report.size = checkpoint.size
    for position, record in enumerate(bundle.get("entries") or []):
        where = f"bundle {path} entries[{position}]"
        index, leaf = record.get("index"), _field(record, "leaf", where)
        if not isinstance(index, int) or leaf is None:
            raise BundleError(f"{where}: needs an integer 'index' and a base64 'leaf'")
        try:
            view = decode_leaf(leaf)
            proof = [base64.b64decode(node, validate=True) for node in record.get("proof") or []]
            if view.index != index:
                report.problems.append(f"entry {index}: leaf claims index {view.index}")
                continue
            verify_inclusion(index, checkpoint.size, hash_leaf(leaf), proof, checkpoint.root)
        except (EncodingError, ProofError, ValueError) as exc:
            report.problems.append(f"entry {index}: {exc}")
            continue
        salt, payload = _field(record, "salt", where), _field(record, "payload", where)
        shown: dict[str, Any] = {"index": index, **view.header}
        if salt is not None and payload is not None:
            if payload_commitment(salt, payload) != leaf[9:PREFIX_SIZE]:
                report.problems.append(f"entry {index}: payload does not match the leaf's commitment")
                continue
            shown.update(decode_payload(payload))
        else:
            shown["payload"] = "erased"
        report.entries.append(shown)
    return report
