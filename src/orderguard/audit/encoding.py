"""The canonical bytes of an audit entry: what a Merkle leaf commits to (format version 1).

A leaf's data is, byte for byte::

    0x01                         format version
    index                        uint64, big-endian: the entry's position in the log
    SHA-256(salt || payload)     32 bytes: commitment to the erasable payload
    header                       canonical JSON of the non-erasable fields

and the leaf hash is SHA-256(0x00 || leaf data). The payload (before/after
state, IP, session id) and its 16-byte random salt are stored beside the leaf
and may later be erased; the commitment stays, so every proof still verifies.
Canonical JSON: UTF-8, keys sorted, no whitespace (separators ``,`` and
``:``), non-ASCII characters written as themselves, integers as integers,
``null`` for absent values, floats as Python's shortest round-trip repr,
NaN and infinities refused. docs/audit.md has the field list and an example.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from orderguard.audit.merkle import HASH_SIZE
from orderguard.domain.audit import AuditAction, AuditEntry

FORMAT_VERSION: Final = 1
SALT_SIZE: Final = 16
PREFIX_SIZE: Final = 1 + 8 + HASH_SIZE  # version, index, payload commitment
_INDEX = struct.Struct(">BQ")


class EncodingError(ValueError):
    """An entry or stored leaf cannot be encoded or decoded; the message names the field."""


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The C encoder built once (json builds one per call): same output, a third of the time for small entries.
# No circular-reference markers: a cycle ends in RecursionError, reported like any non-JSON value.
_FAST = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def canonical_json(value: object, where: str) -> bytes:
    """``value`` as canonical JSON bytes; ``where`` names it in the error if it is not JSON-ready."""
    try:
        if _FAST is None:
            return _CANONICAL.encode(value).encode("utf-8")
        return "".join(_FAST(value, 0)).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise EncodingError(
            f"{where} is not JSON-ready ({exc}); use str/int/float/bool/None/list/dict"
        ) from exc


@functools.lru_cache(maxsize=4096)
def _second_text(seconds: int) -> str:
    # Entries arrive in bursts within the same second: formatting each second once is measurably cheaper.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339_ns(ts_ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC text with nine fractional digits."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{_second_text(seconds)}.{nanos:09d}Z"


_ACTIONS = {action.value: action.value for action in AuditAction}


def _require_text(entry: AuditEntry) -> None:
    for name, value in (
        ("kind", entry.kind),
        ("object_id", entry.object_id),
        ("actor", entry.actor),
        ("clock", entry.clock),
    ):
        if not isinstance(value, str) or not value:
            raise EncodingError(f"audit entry field {name!r} must be a non-empty string, got {value!r}")


def header_fields(entry: AuditEntry) -> dict[str, Any]:
    """The non-erasable fields of ``entry``, as they appear in the leaf header."""
    if not isinstance(entry.ts, int) or isinstance(entry.ts, bool) or entry.ts < 0:
        raise EncodingError(f"audit entry field 'ts' must be epoch nanoseconds (int >= 0), got {entry.ts!r}")
    action = _ACTIONS.get(entry.action)
    if action is None:
        raise EncodingError(f"audit entry field 'action' is not an AuditAction: {entry.action!r}")
    _require_text(entry)
    return {
        "v": FORMAT_VERSION,
        "kind": entry.kind,
        "action": action,
        "object_id": entry.object_id,
        "actor": entry.actor,
        "ts_ns": entry.ts,
        "ts": rfc3339_ns(entry.ts),
        "clock": entry.clock,
        "decision": entry.decision,
        "reason_code": entry.reason_code,
        "policy_ids": list(entry.policy_ids),
    }


def payload_fields(entry: AuditEntry) -> dict[str, Any]:
    """The erasable fields of ``entry``: state snapshots and where the action came from."""
    return {"before": entry.before, "after": entry.after, "ip": entry.ip, "session_id": entry.session_id}


@dataclass(frozen=True, slots=True)
class EncodedEntry:
    """An entry ready for the sequencer: everything but its index, which only the sequencer assigns."""

    header: bytes
    payload: bytes
    salt: bytes
    commitment: bytes

    def leaf(self, index: int) -> bytes:
        """The leaf data for this entry at log position ``index``."""
        return _INDEX.pack(FORMAT_VERSION, index) + self.commitment + self.header


def payload_commitment(salt: bytes, payload: bytes) -> bytes:
    """SHA-256(salt || payload): what the leaf keeps once the payload may be erased."""
    return hashlib.sha256(salt + payload).digest()


def encode_entry(entry: AuditEntry, salt: bytes | None = None) -> EncodedEntry:
    """Canonical bytes for ``entry``; a fresh random salt unless one is given (tests, re-encoding)."""
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    if len(salt) != SALT_SIZE:
        raise EncodingError(f"salt must be {SALT_SIZE} bytes, got {len(salt)}")
    header = encode_header(entry)
    payload = encode_payload(entry)
    return EncodedEntry(header, payload, salt, payload_commitment(salt, payload))


def encode_for_log(entries: list[AuditEntry]) -> list[tuple[bytes, bytes, bytes]]:
    """(commitment + header, salt, payload) per entry with fresh salts: what the sequencer needs.

    The append path's encoder: one ``os.urandom`` call for every salt, and no intermediate objects.
    """
    salts = os.urandom(SALT_SIZE * len(entries))
    encoded = []
    for number, entry in enumerate(entries):
        salt = salts[number * SALT_SIZE : (number + 1) * SALT_SIZE]
        payload = encode_payload(entry)
        encoded.append((_sha256(salt + payload).digest() + encode_header(entry), salt, payload))
    return encoded


_sha256 = hashlib.sha256
_quote: Any = json.encoder.encode_basestring  # the function the C encoder itself uses for str
_STR_ONLY = frozenset({str})


def encode_header(entry: AuditEntry) -> bytes:
    """``canonical_json(header_fields(entry))``, written directly for the common field types.

    The keys are spelled out in sorted order and each value is written as the canonical encoder
    would; anything unusual (a non-str policy id, an int subclass, text UTF-8 cannot carry) takes
    the general path, which also produces the error messages.
    """
    ts, policy_ids, decision, reason_code = entry.ts, entry.policy_ids, entry.decision, entry.reason_code
    kind, object_id, actor, clock = entry.kind, entry.object_id, entry.actor, entry.clock
    action = _ACTIONS.get(entry.action)
    if (
        type(ts) is int
        and ts >= 0
        and action is not None
        and type(kind) is str
        and type(object_id) is str
        and type(actor) is str
        and type(clock) is str
        and kind
        and object_id
        and actor
        and clock
        and (decision is None or type(decision) is str)
        and (reason_code is None or type(reason_code) is str)
        and {*map(type, policy_ids)} <= _STR_ONLY
    ):
        try:
            return (
                f'{{"action":"{action}","actor":{_quote(actor)},"clock":{_quote(clock)},'
                f'"decision":{"null" if decision is None else _quote(decision)},'
                f'"kind":{_quote(kind)},"object_id":{_quote(object_id)},'
                f'"policy_ids":[{",".join(map(_quote, policy_ids))}],'
                f'"reason_code":{"null" if reason_code is None else _quote(reason_code)},'
                f'"ts":"{rfc3339_ns(ts)}","ts_ns":{ts},"v":{FORMAT_VERSION}}}'
            ).encode()
        except UnicodeEncodeError:
            pass  # the general path below says what is wrong
    return canonical_json(header_fields(entry), "audit entry header")


def encode_payload(entry: AuditEntry) -> bytes:
    """``canonical_json(payload_fields(entry))``, with the four keys written directly."""
    ip, session_id = entry.ip, entry.session_id
    if (
        _FAST is not None
        and (ip is None or type(ip) is str)
        and (session_id is None or type(session_id) is str)
    ):
        try:
            return (
                f'{{"after":{"".join(_FAST(entry.after, 0))},"before":{"".join(_FAST(entry.before, 0))},'
                f'"ip":{"null" if ip is None else _quote(ip)},'
                f'"session_id":{"null" if session_id is None else _quote(session_id)}}}'
            ).encode()
        except (TypeError, ValueError, RecursionError):
            pass  # the general path below names the problem
    return canonical_json(payload_fields(entry), "audit entry before/after/ip/session_id")


@dataclass(frozen=True, slots=True)
class LeafView:
    """A stored leaf taken apart: its claimed index, payload commitment and header fields."""

    index: int
    commitment: bytes
    header: dict[str, Any]


def leaf_index(leaf: bytes) -> int:
    """The index a leaf claims, without parsing its header (fast path for verification)."""
    if len(leaf) < PREFIX_SIZE or leaf[0] != FORMAT_VERSION:
        raise EncodingError(f"leaf is not format version {FORMAT_VERSION} ({len(leaf)} bytes)")
    return int(_INDEX.unpack_from(leaf)[1])


def decode_leaf(leaf: bytes) -> LeafView:
    """Parse stored leaf data; raises ``EncodingError`` if it is not a version-1 leaf."""
    index = leaf_index(leaf)
    try:
        header = json.loads(leaf[PREFIX_SIZE:].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncodingError(f"leaf {index}: header is not UTF-8 JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise EncodingError(f"leaf {index}: header is not a JSON object")
    return LeafView(index, bytes(leaf[1 + 8 : PREFIX_SIZE]), header)


def decode_payload(payload: bytes) -> dict[str, Any]:
    """Parse a stored payload back into its fields."""
    value = json.loads(payload.decode("utf-8"))
    if not isinstance(value, dict):
        raise EncodingError("payload is not a JSON object")
    return value
