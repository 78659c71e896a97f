"""Drop copies: the connector seals each order it opened, with its outcome, to the surveillance key.

Drop copy v1 (``OGD1``)::

    magic              4 bytes  "OGD1" (same HPKE suite as the envelope)
    recipient_key_id   blob     which surveillance key opens it
    digest             blob     the order digest (joins the audit log and the envelope)
    ciphertext         blob     HPKE: enc || AEAD(canonical intent, originator key id,
                                signature, outcome reason code, connector id, decided_ns)

The header is the HPKE ``info``, as for envelopes. Only the surveillance
service holds the private key; compliance reads a copy through the
approval-gated review desk (``orderguard.execution.review``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.domain import ReasonCode
from orderguard.execution._codec import CodecError, Reader, Writer
from orderguard.execution.envelope import SUITE, EnvelopeError
from orderguard.execution.intent import IntentError, OrderIntent

MAGIC: Final = b"OGD1"
INFO_PREFIX: Final = b"orderguard/drop-copy/v1\x00"


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
    recipient_key_id: str
    digest: bytes
    ciphertext: bytes

    def header(self) -> bytes:
        return Writer().raw(MAGIC).text(self.recipient_key_id).blob(self.digest).getvalue()

    def info(self) -> bytes:
        return INFO_PREFIX + self.header()

    def to_bytes(self) -> bytes:
        return Writer().raw(self.header()).blob(self.ciphertext).getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DropCopy:
        try:
            reader = Reader(data, "drop copy")
            if reader.raw(4) != MAGIC:
                raise EnvelopeError("drop copy: unknown format (magic is not OGD1)")
            copy = cls(reader.text(), reader.blob(), reader.blob())
            reader.finish()
        except CodecError as exc:
            raise EnvelopeError(str(exc)) from None
        return copy


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
) -> DropCopy:
    plaintext = (
        Writer()
        .blob(canonical)
        .text(originator_key_id)
        .blob(signature)
        .text(outcome.value)
        .text(connector_id)
        .u64(decided_ns)
        .getvalue()
    )
    unsealed = DropCopy(recipient_key_id, digest, b"")
    return DropCopy(recipient_key_id, digest, SUITE.encrypt(plaintext, recipient, info=unsealed.info()))


def open_drop_copy(copy: DropCopy, private_key: X25519PrivateKey) -> DropCopyContents:
    """Decrypt a drop copy; an EnvelopeError if it was altered or sealed to another key."""
    try:
        plaintext = SUITE.decrypt(copy.ciphertext, private_key, info=copy.info())
    except (InvalidTag, ValueError) as exc:  # InvalidTag: altered, or sealed to another key
        raise EnvelopeError(f"drop copy does not open with this key ({type(exc).__name__})") from None
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
