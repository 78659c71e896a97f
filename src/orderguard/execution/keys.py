"""Key records: who owns a key, what it is for, when it is valid; and the public key directory.

A key serves exactly one purpose (signing orders, approving, attesting
controls, or receiving sealed envelopes as the connector, surveillance).
Validity is a window ``[not_before_ns, not_after_ns)``: rotation closes the
old key's window at the end of an overlap period, revocation stops a key at
once. Verification asks the directory whether a key was usable for a purpose
at a given time; the answer distinguishes unknown, wrong purpose, revoked
and rotated-out keys so refusals carry the right reason code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.domain import Decision, ReasonCode


class KeyPurpose(StrEnum):
    ORDER_SIGNING = "order_signing"  # Ed25519: a principal or desk service signs order intents
    APPROVAL = "approval"  # Ed25519: a principal signs approvals (orders, reviews, key operations)
    ATTESTATION = "attestation"  # Ed25519: the controls service attests its decisions
    CONNECTOR = "connector"  # X25519: the execution connector opens envelopes
    SURVEILLANCE = "surveillance"  # X25519: the surveillance service opens drop copies

    @property
    def algorithm(self) -> str:
        return "x25519" if self in _SEALING else "ed25519"


_SEALING: Final = frozenset({KeyPurpose.CONNECTOR, KeyPurpose.SURVEILLANCE})
DESK_OWNER_PREFIX: Final = "desk:"  # owner of a desk service key: "desk:equities"


def key_id_for(public_raw: bytes) -> str:
    """A key's id: 'k' + 24 hex digits of the SHA-256 of its raw public key."""
    return "k" + hashlib.sha256(public_raw).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """The public facts about one key. ``not_after_ns`` None means open-ended."""

    key_id: str
    owner: str
    purpose: KeyPurpose
    public_raw: bytes
    not_before_ns: int
    not_after_ns: int | None = None
    revoked_ns: int | None = None
    revocation_reason: str | None = None
    replaces: str | None = None  # the key this one rotated in for

    @property
    def algorithm(self) -> str:
        return self.purpose.algorithm

    def to_json(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "owner": self.owner,
            "purpose": self.purpose.value,
            "algorithm": self.algorithm,
            "public_key": self.public_raw.hex(),
            "not_before_ns": self.not_before_ns,
            "not_after_ns": self.not_after_ns,
            "revoked_ns": self.revoked_ns,
            "revocation_reason": self.revocation_reason,
            "replaces": self.replaces,
        }

    @classmethod
    def from_json(cls, data: dict[str, object], source: str) -> KeyRecord:
        try:
            record = cls(
                key_id=str(data["key_id"]),
                owner=str(data["owner"]),
                purpose=KeyPurpose(str(data["purpose"])),
                public_raw=bytes.fromhex(str(data["public_key"])),
                not_before_ns=_as_int(data["not_before_ns"]),
                not_after_ns=_opt_int(data.get("not_after_ns")),
                revoked_ns=_opt_int(data.get("revoked_ns")),
                revocation_reason=_opt_str(data.get("revocation_reason")),
                replaces=_opt_str(data.get("replaces")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{source}: not a valid key record ({type(exc).__name__}: {exc})") from None
        if key_id_for(record.public_raw) != record.key_id:
            raise ValueError(f"{source}: key_id {record.key_id} does not match its public key")
        return record


def _as_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _as_int(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class UsableKey:
    """A key the directory vouches for, with its loaded public key object."""

    record: KeyRecord
    public: Ed25519PublicKey


class KeyDirectory:
    """Public keys by id, with their public key objects loaded once and cached.

    The connector and the review desk verify through this; it never holds a
    private key.
    """

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._signing: dict[str, UsableKey] = {}  # Ed25519 records with their loaded public keys
        for record in records:
            self.add(record)

    def add(self, record: KeyRecord) -> None:
        """Add or replace a record (a rotation or revocation updates the existing one)."""
        self._records[record.key_id] = record
        if record.algorithm == "ed25519":
            public = Ed25519PublicKey.from_public_bytes(record.public_raw)
            self._signing[record.key_id] = UsableKey(record, public)

    def get(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def records(self) -> list[KeyRecord]:
        return list(self._records.values())

    def sealing_public(self, key_id: str) -> X25519PublicKey:
        record = self._records[key_id]
        return X25519PublicKey.from_public_bytes(record.public_raw)

    def usable(self, key_id: str, purpose: KeyPurpose, at_ns: int, now_ns: int) -> UsableKey | Decision:
        """The key if it was valid for ``purpose`` at ``at_ns`` and is not revoked by ``now_ns``."""
        record = self._records.get(key_id)
        if record is None:
            return Decision.deny(ReasonCode.SIGNATURE_INVALID, f"key {key_id} is not in the key directory")
        if record.purpose is not purpose:
            return Decision.deny(
                ReasonCode.SIGNATURE_INVALID,
                f"key {key_id} is a {record.purpose.value} key, not a {purpose.value} key",
            )
        if record.revoked_ns is not None and record.revoked_ns <= now_ns:
            return Decision.deny(
                ReasonCode.KEY_REVOKED,
                f"key {key_id} of {record.owner} was revoked "
                f"({record.revocation_reason or 'no reason given'})",
            )
        if at_ns < record.not_before_ns or (record.not_after_ns is not None and at_ns >= record.not_after_ns):
            return Decision.deny(
                ReasonCode.KEY_EXPIRED,
                f"key {key_id} of {record.owner} was not valid at {at_ns} "
                f"(window {record.not_before_ns}..{record.not_after_ns}; rotated out or not yet active)",
            )
        return self._signing[key_id]
