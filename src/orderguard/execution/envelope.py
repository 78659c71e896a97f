"""Signing and sealing at the source; the envelope format that queues, stores and logs carry.

Envelope v1 (``OGE1``), all integers big-endian, ``blob`` = u32 length + bytes::

    magic            4 bytes  "OGE1": format and suite (X25519, HKDF-SHA256, AES-256-GCM)
    connector_key_id blob     which connector key can open it (routing; rotation overlap)
    digest           blob     SHA-256 of the canonical intent (idempotency and audit join)
    expires_ns       u64      when the order lapses (lets a queue drop it unopened)
    ciphertext       blob     HPKE single-shot: enc (32 bytes) || AEAD ciphertext

The four header fields are the HPKE ``info``: change any of them and the
connector cannot open the envelope. Inside the ciphertext: the canonical
intent, the originator's key id and signature (over this digest, or over a
batch of digests that includes it), and the controls attestation.
docs/execution.md justifies each clear field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.execution._codec import CodecError, Reader, Writer
from orderguard.execution.attestation import Attestation
from orderguard.execution.intent import OrderIntent
from orderguard.execution.signing import Context, Signer, sign

MAGIC: Final = b"OGE1"
INFO_PREFIX: Final = b"orderguard/envelope/v1\x00"
SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
DIGEST_BYTES: Final = 32
MAX_BATCH: Final = 4096


class EnvelopeError(ValueError):
    """Bytes that are not a well-formed envelope, or an envelope that does not open."""


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """An intent with its canonical bytes, digest and the originator's signature.

    ``batch`` is empty when the signature covers this digest alone, else the
    concatenated digests (32 bytes each, this one among them) it covers.
    """

    intent: OrderIntent
    canonical: bytes
    digest: bytes
    key_id: str
    signature: bytes
    batch: bytes = b""


def sign_order(intent: OrderIntent, key_id: str, key: Signer) -> SignedOrder:
    """The originator (or the desk service key it acts through) signs the intent's digest."""
    canonical = intent.canonical_bytes()
    digest = intent.digest()
    return SignedOrder(intent, canonical, digest, key_id, sign(key, Context.ORDER, digest))


def sign_orders(intents: list[OrderIntent], key_id: str, key: Signer) -> list[SignedOrder]:
    """One signature over a batch (a desk's burst of orders): each order carries the digest list."""
    if not 0 < len(intents) <= MAX_BATCH:
        raise ValueError(f"a signed batch holds 1..{MAX_BATCH} orders, got {len(intents)}")
    canonicals = [intent.canonical_bytes() for intent in intents]
    digests = [hashlib.sha256(c).digest() for c in canonicals]
    batch = b"".join(digests)
    signature = sign(key, Context.ORDER_BATCH, batch)
    return [
        SignedOrder(intent, canonical, digest, key_id, signature, batch)
        for intent, canonical, digest in zip(intents, canonicals, digests, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The sealed order as it travels: clear routing header plus HPKE ciphertext."""

    connector_key_id: str
    digest: bytes
    expires_ns: int
    ciphertext: bytes

    def header(self) -> bytes:
        return (
            Writer().raw(MAGIC).text(self.connector_key_id).blob(self.digest).u64(self.expires_ns).getvalue()
        )

    def info(self) -> bytes:
        return INFO_PREFIX + self.header()

    def to_bytes(self) -> bytes:
        return Writer().raw(self.header()).blob(self.ciphertext).getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        try:
            reader = Reader(data, "envelope")
            if reader.raw(4) != MAGIC:
                raise EnvelopeError("envelope: unknown format (magic is not OGE1)")
            envelope = cls(reader.text(), reader.blob(), reader.u64(), reader.blob())
            reader.finish()
        except CodecError as exc:
            raise EnvelopeError(str(exc)) from None
        if len(envelope.digest) != DIGEST_BYTES:
            raise EnvelopeError(f"envelope: digest is {len(envelope.digest)} bytes, not {DIGEST_BYTES}")
        return envelope


def seal(
    signed: SignedOrder,
    attestation: Attestation | None,
    connector_key_id: str,
    connector_public: X25519PublicKey,
) -> Envelope:
    """Seal the signed order and its attestation to the connector's public key."""
    plaintext = (
        Writer()
        .blob(signed.canonical)
        .text(signed.key_id)
        .blob(signed.signature)
        .blob(signed.batch)
        .blob(attestation.encode() if attestation is not None else b"")
        .getvalue()
    )
    unsealed = Envelope(connector_key_id, signed.digest, signed.intent.expires_ns, b"")
    ciphertext = SUITE.encrypt(plaintext, connector_public, info=unsealed.info())
    return Envelope(connector_key_id, signed.digest, signed.intent.expires_ns, ciphertext)


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """The decrypted contents, not yet verified beyond the AEAD tag."""

    canonical: bytes
    key_id: str
    signature: bytes
    batch: bytes
    attestation: bytes


def open_envelope(envelope: Envelope, private_key: X25519PrivateKey) -> OpenedEnvelope:
    """Decrypt with the connector's private key; any tampering is an EnvelopeError."""
    try:
        plaintext = SUITE.decrypt(envelope.ciphertext, private_key, info=envelope.info())
    except (InvalidTag, ValueError) as exc:  # InvalidTag: altered, or sealed to another key
        message = f"envelope does not open with this connector key ({type(exc).__name__})"
        raise EnvelopeError(message) from None
    try:
        reader = Reader(plaintext, "envelope plaintext")
        opened = OpenedEnvelope(reader.blob(), reader.text(), reader.blob(), reader.blob(), reader.blob())
        reader.finish()
    except CodecError as exc:
        raise EnvelopeError(str(exc)) from None
    return opened
