"""Drop copies: the connector seals each order it opened, with its outcome, to the surveillance key.

Drop copy v1 (``OGD1``)::

    magic              4 bytes  "OGD1" (same HPKE suite as the envelope)
    recipient_key_id   blob     which surveillance key opens it
    digest             blob     the order digest (joins the audit log and the envelope)
    ciphertext         blob     HPKE: enc || AEAD(canonical intent, originator key id,
                                signature, outcome reason code, connector id, decided_ns)

The header is the HPKE ``info``, as for envelopes. Drop copy v2 (``OGD2``) seals
the same plaintext under a session key, as envelope v2 does: ``session`` (blob)
and ``sequence`` (u64) follow the digest, and the header is the AES-GCM
associated data (``orderguard.execution.session``). Only the surveillance
service holds the private key; compliance reads a copy through the
approval-gated review desk (``orderguard.execution.review``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.domain import ReasonCode
from orderguard.execution._codec import CodecError, Reader, blobs, u64
from orderguard.execution.envelope import EnvelopeError
from orderguard.execution.intent import IntentError, OrderIntent
from orderguard.execution.session import (
    SUITE,
    SessionOpener,
    SessionSealer,
    nonce_for,
    open_message,
)

MAGIC: Final = b"OGD1"
MAGIC_SESSION: Final = b"OGD2"
INFO_PREFIX: Final = b"orderguard/drop-copy/v1\x00"
INFO_PREFIX_SESSION: Final = b"orderguard/drop-copy/v2\x00"
SESSION_WRAP_PREFIX: Final = b"orderguard/drop-copy-session/v2\x00"


@dataclass(frozen=True, slots=True)
class DropCopyContents:
    """What surveillance learns about one order the connector opened."""

    intent: OrderIntent
    originator_key_id: str
    signature: bytes
    outcome: ReasonCode
    connector_id: str
    decided_ns: int


@dataclass(frozen=True, slots=True)
class DropCopy:
    """A sealed drop copy; ``session`` is empty for v1, else the wrapped session key of a v2 copy."""

    recipient_key_id: str
    digest: bytes
    ciphertext: bytes
    session: bytes = b""
    sequence: int = 0

    def header(self) -> bytes:
        return _header(self.recipient_key_id, self.digest, self.session, self.sequence)

    def info(self) -> bytes:
        return (INFO_PREFIX_SESSION if self.session else INFO_PREFIX) + self.header()

    def to_bytes(self) -> bytes:
        return self.header() + blobs(self.ciphertext)

    @classmethod
    def from_bytes(cls, data: bytes) -> DropCopy:
        try:
            reader = Reader(data, "drop copy")
            magic = reader.raw(4)
            if magic not in (MAGIC, MAGIC_SESSION):
                raise EnvelopeError("drop copy: unknown format (magic is neither OGD1 nor OGD2)")
            key_id, digest = reader.text(), reader.blob()
            session, sequence = (reader.blob(), reader.u64()) if magic == MAGIC_SESSION else (b"", 0)
            copy = cls(key_id, digest, reader.blob(), session, sequence)
            reader.finish()
        except CodecError as exc:
            raise EnvelopeError(str(exc)) from None
        if magic == MAGIC_SESSION and not session:
            raise EnvelopeError("drop copy: an OGD2 copy carries no session key")
        return copy


def _header(key_id: str, digest: bytes, session: bytes, sequence: int) -> bytes:
    if session:
        return b"".join((MAGIC_SESSION, blobs(key_id.encode("utf-8"), digest, session), u64(sequence)))
    return MAGIC + blobs(key_id.encode("utf-8"), digest)


def drop_copy_session(recipient_key_id: str, recipient: X25519PublicKey) -> SessionSealer:
    """A session for sealing drop copies to the surveillance key ``recipient_key_id`` (v2)."""
    return SessionSealer(recipient_key_id, recipient, SESSION_WRAP_PREFIX)


def seal_drop_copy(
    *,
    canonical: bytes,
    digest: bytes,
    originator_key_id: str,
    signature: bytes,
    outcome: ReasonCode,
    connector_id: str,
    decided_ns: int,
    recipient_key_id: str,
    recipient: X25519PublicKey,
    session: SessionSealer | None = None,
) -> DropCopy:
    """Seal a drop copy: single-shot HPKE (v1), or under ``session`` (v2) when given."""
    plaintext = blobs(
        canonical,
        originator_key_id.encode("utf-8"),
        signature,
        outcome.encode("utf-8"),  # a StrEnum is its value
        connector_id.encode("utf-8"),
    ) + u64(decided_ns)
    if session is not None:
        if session.recipient_key_id != recipient_key_id:
            raise ValueError(f"drop copy session is for {session.recipient_key_id}, not {recipient_key_id}")
        wrapped, sequence, cipher = session.next()
        info = INFO_PREFIX_SESSION + _header(recipient_key_id, digest, wrapped, sequence)
        ciphertext = cipher.encrypt(nonce_for(sequence), plaintext, info)
        return DropCopy(recipient_key_id, digest, ciphertext, wrapped, sequence)
    unsealed = DropCopy(recipient_key_id, digest, b"")
    return DropCopy(recipient_key_id, digest, SUITE.encrypt(plaintext, recipient, info=unsealed.info()))


def open_drop_copy(
    copy: DropCopy, private_key: X25519PrivateKey, opener: SessionOpener | None = None
) -> DropCopyContents:
    """Decrypt a drop copy; an EnvelopeError if it was altered or sealed to another key.

    ``opener`` keeps unwrapped v2 session keys between calls (else each v2 copy unwraps its own).
    """
    try:
        if copy.session:
            sessions = opener or SessionOpener({copy.recipient_key_id: private_key}, SESSION_WRAP_PREFIX)
            cipher = sessions.cipher(copy.recipient_key_id, copy.session)
            plaintext = open_message(cipher, copy.sequence, copy.ciphertext, copy.info())
        else:
            plaintext = SUITE.decrypt(copy.ciphertext, private_key, info=copy.info())
    except (InvalidTag, ValueError) as exc:  # InvalidTag: altered, or sealed to another key
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise EnvelopeError(f"drop copy does not open with this key ({detail})") from None
    try:
        reader = Reader(plaintext, "drop copy plaintext")
        canonical, key_id, signature = reader.blob(), reader.text(), reader.blob()
        outcome, connector_id, decided_ns = ReasonCode(reader.text()), reader.text(), reader.u64()
        reader.finish()
        intent = OrderIntent.from_canonical(canonical)
    except (CodecError, IntentError, ValueError) as exc:
        raise EnvelopeError(f"drop copy plaintext is malformed: {exc}") from None
    if intent.digest() != copy.digest:
        raise EnvelopeError("drop copy digest does not match its order")
    return DropCopyContents(intent, key_id, signature, outcome, connector_id, decided_ns)
