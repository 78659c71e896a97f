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
from operator import itemgetter
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


_SECOND_PREFIXES: dict[str, str] = {}  # decimal epoch seconds -> "YYYY-MM-DDTHH:MM:SS."


def rfc3339_ns(ts_ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC text with nine fractional digits."""
    if ts_ns >= 1_000_000_000:  # the decimal digits split into seconds and nine fractional digits
        digits = str(ts_ns)
        prefix = _SECOND_PREFIXES.get(digits[:-9])
        if prefix is None:
            if len(_SECOND_PREFIXES) >= 4096:
                _SECOND_PREFIXES.clear()
            prefix = _SECOND_PREFIXES[digits[:-9]] = _second_text(ts_ns // 1_000_000_000) + "."
        return prefix + digits[-9:] + "Z"
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

    The append path's encoder: one ``os.urandom`` call for every salt, and column-wise ``map`` over C
    functions for everything but the two JSON encoders.
    """
    if len(entries) == 1:  # the single-entry append: plain calls beat setting up the column maps
        (entry,) = entries
        salt = os.urandom(SALT_SIZE)
        payload = encode_payload(entry)
        return [(_sha256(salt + payload).digest() + encode_header(entry), salt, payload)]
    salts = list(map(_first, _iter_salts(os.urandom(SALT_SIZE * len(entries)))))
    payloads = list(map(encode_payload, entries))
    commitments = map(_digest, map(_sha256, map(bytes.__add__, salts, payloads)))
    tails = map(bytes.__add__, commitments, map(encode_header, entries))
    return list(zip(tails, salts, payloads, strict=True))


_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_iter_salts = struct.Struct(f"{SALT_SIZE}s").iter_unpack
_first = itemgetter(0)
_quote: Any = json.encoder.encode_basestring  # the function the C encoder itself uses for str
_STR_ONLY = frozenset({str})


# Header text up to the object id, and from the policy ids up to the time, for values seen before:
# entries repeat their actor, kind, action and reason, so most headers quote only object id and time.
_HEADS: dict[tuple[Any, ...], str] = {}
_MIDDLES: dict[tuple[Any, ...], str] = {}
_CACHE_LIMIT = 4096
_HEADER_END = f',"v":{FORMAT_VERSION}}}'


def encode_header(entry: AuditEntry) -> bytes:
    """``canonical_json(header_fields(entry))``, written directly for the common field types.

    The keys are spelled out in sorted order and each value is written as the canonical encoder
    would; anything unusual (a non-str policy id, an int subclass, text UTF-8 cannot carry) takes
    the general path, which also produces the error messages.
    """
    ts, object_id = entry.ts, entry.object_id
    action = _ACTIONS.get(entry.action)
    head_key = (action, entry.actor, entry.clock, entry.decision, entry.kind)
    middle_key = (entry.policy_ids, entry.reason_code)
    try:
        head = _HEADS.get(head_key) or _header_head(*head_key)
        middle = _MIDDLES.get(middle_key) or _header_middle(*middle_key)
    except TypeError:  # an unhashable value: not a field type the fast path writes
        head = middle = None
    if head is not None and middle is not None and type(ts) is int and ts >= 0 and type(object_id) is str:
        try:
            if object_id:
                time_text = rfc3339_ns(ts)
                return f'{head}{_quote(object_id)},{middle}{time_text}","ts_ns":{ts}{_HEADER_END}'.encode()
        except UnicodeEncodeError:
            pass  # the general path below says what is wrong
    return canonical_json(header_fields(entry), "audit entry header")


def _header_head(action: str | None, actor: Any, clock: Any, decision: Any, kind: Any) -> str | None:
    """``{"action":..,"actor":..,"clock":..,"decision":..,"kind":..,"object_id":`` or None if unusual."""
    if action is None or (decision is not None and type(decision) is not str):
        return None
    if not (type(actor) is str and type(clock) is str and type(kind) is str and actor and clock and kind):
        return None
    if len(_HEADS) >= _CACHE_LIMIT:
        _HEADS.clear()
    text = (
        f'{{"action":"{action}","actor":{_quote(actor)},"clock":{_quote(clock)},'
        f'"decision":{"null" if decision is None else _quote(decision)},"kind":{_quote(kind)},"object_id":'
    )
    _HEADS[action, actor, clock, decision, kind] = text
    return text


def _header_middle(policy_ids: Any, reason_code: Any) -> str | None:
    """``"policy_ids":[..],"reason_code":..,"ts":"`` or None if unusual."""
    if type(policy_ids) is not tuple or {*map(type, policy_ids)} - _STR_ONLY:
        return None
    if reason_code is not None and type(reason_code) is not str:
        return None
    if len(_MIDDLES) >= _CACHE_LIMIT:
        _MIDDLES.clear()
    text = (
        f'"policy_ids":[{",".join(map(_quote, policy_ids))}],'
        f'"reason_code":{"null" if reason_code is None else _quote(reason_code)},"ts":"'
    )
    _MIDDLES[policy_ids, reason_code] = text
    return text


def encode_payload(entry: AuditEntry) -> bytes:
    """``canonical_json(payload_fields(entry))``, with the four keys written directly."""
    ip, session_id, before, after = entry.ip, entry.session_id, entry.before, entry.after
    if (
        _FAST is not None
        and (ip is None or type(ip) is str)
        and (session_id is None or type(session_id) is str)
    ):
        try:
            return (
                f'{{"after":{"null" if after is None else "".join(_FAST(after, 0))},'
                f'"before":{"null" if before is None else "".join(_FAST(before, 0))},'
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
