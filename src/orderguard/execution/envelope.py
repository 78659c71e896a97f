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

Envelope v2 (``OGE2``) seals the same plaintext under a session key
(``orderguard.execution.session``): after ``expires_ns`` come ``session`` (blob: the
session key HPKE-wrapped to the connector key) and ``sequence`` (u64: the AES-GCM
nonce counter), then ``ciphertext`` (blob: AES-256-GCM with the whole header as
associated data). Same guarantees, one X25519 operation per session instead of per order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.execution._codec import CodecError, Reader, blobs, u64
from orderguard.execution.attestation import Attestation
from orderguard.execution.intent import OrderIntent
from orderguard.execution.session import (
    SUITE,
    SessionError,
    SessionOpener,
    SessionSealer,
    nonce_for,
    open_message,
)
from orderguard.execution.signing import Context, Signer, sign

MAGIC: Final = b"OGE1"
MAGIC_SESSION: Final = b"OGE2"
INFO_PREFIX: Final = b"orderguard/envelope/v1\x00"
INFO_PREFIX_SESSION: Final = b"orderguard/envelope/v2\x00"
SESSION_WRAP_PREFIX: Final = b"orderguard/envelope-session/v2\x00"  # HPKE info of the wrapped session key
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
    """The sealed order as it travels: clear routing header plus ciphertext.

    ``session`` is empty for a v1 (single-shot HPKE) envelope, else the wrapped session key of a
    v2 envelope, whose ``sequence`` numbers it within the session.
    """

    connector_key_id: str
    digest: bytes
    expires_ns: int
    ciphertext: bytes
    session: bytes = b""
    sequence: int = 0
    # header(), kept once written or read: sealing and opening need it as HPKE info / AES-GCM data.
    _header: bytes = field(default=b"", init=False, repr=False, compare=False)

    def header(self) -> bytes:
        if not self._header:
            header = _header(self.connector_key_id, self.digest, self.expires_ns, self.session, self.sequence)
            object.__setattr__(self, "_header", header)
        return self._header

    def info(self) -> bytes:
        return (INFO_PREFIX_SESSION if self.session else INFO_PREFIX) + self.header()

    def to_bytes(self) -> bytes:
        return self.header() + blobs(self.ciphertext)

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        try:
            reader = Reader(data, "envelope")
            magic = reader.raw(4)
            if magic not in (MAGIC, MAGIC_SESSION):
                raise EnvelopeError("envelope: unknown format (magic is neither OGE1 nor OGE2)")
            key_id, digest, expires_ns = reader.text(), reader.blob(), reader.u64()
            session, sequence = (reader.blob(), reader.u64()) if magic == MAGIC_SESSION else (b"", 0)
            header_end = reader.position
            envelope = cls(key_id, digest, expires_ns, reader.blob(), session, sequence)
            reader.finish()
            object.__setattr__(envelope, "_header", data[:header_end])  # one encoding per value: the same
        except CodecError as exc:
            raise EnvelopeError(str(exc)) from None
        if len(envelope.digest) != DIGEST_BYTES:
            raise EnvelopeError(f"envelope: digest is {len(envelope.digest)} bytes, not {DIGEST_BYTES}")
        if magic == MAGIC_SESSION and not session:
            raise EnvelopeError("envelope: an OGE2 envelope carries no session key")
        return envelope


def _header(key_id: str, digest: bytes, expires_ns: int, session: bytes, sequence: int) -> bytes:
    """The clear header: v1 without a session, v2 with one (module doc)."""
    fixed = (blobs(key_id.encode("utf-8"), digest), u64(expires_ns))
    if session:
        return b"".join((MAGIC_SESSION, *fixed, blobs(session), u64(sequence)))
    return b"".join((MAGIC, *fixed))


def _plaintext(signed: SignedOrder, attestation: Attestation | bytes | None) -> bytes:
    if isinstance(attestation, Attestation):
        attestation = attestation.encode()
    key_id = signed.key_id.encode("utf-8")
    return blobs(signed.canonical, key_id, signed.signature, signed.batch, attestation or b"")


def seal(
    signed: SignedOrder,
    attestation: Attestation | bytes | None,
    connector_key_id: str,
    connector_public: X25519PublicKey,
) -> Envelope:
    """Seal the signed order and its attestation to the connector's public key (v1, single-shot HPKE).

    ``attestation`` may be given already encoded, as for ``seal_in_session``.
    """
    unsealed = Envelope(connector_key_id, signed.digest, signed.intent.expires_ns, b"")
    ciphertext = SUITE.encrypt(_plaintext(signed, attestation), connector_public, info=unsealed.info())
    return Envelope(connector_key_id, signed.digest, signed.intent.expires_ns, ciphertext)


def seal_in_session(
    signed: SignedOrder, attestation: Attestation | bytes | None, session: SessionSealer
) -> Envelope:
    """Seal the signed order and its attestation under ``session`` (v2): only the connector unwraps it.

    ``attestation`` may be given already encoded (``Attestation.encode()``): a batch's
    attestation is then encoded once, not once per order it covers.
    """
    wrapped, sequence, cipher = session.next()
    key_id, expires_ns = session.recipient_key_id, signed.intent.expires_ns
    header = _header(key_id, signed.digest, expires_ns, wrapped, sequence)
    plaintext = _plaintext(signed, attestation)
    ciphertext = cipher.encrypt(nonce_for(sequence), plaintext, INFO_PREFIX_SESSION + header)
    envelope = Envelope(key_id, signed.digest, expires_ns, ciphertext, wrapped, sequence)
    object.__setattr__(envelope, "_header", header)
    return envelope


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """The decrypted contents, not yet verified beyond the AEAD tag."""

    canonical: bytes
    key_id: str
    signature: bytes
    batch: bytes
    attestation: bytes


def open_envelope(envelope: Envelope, private_key: X25519PrivateKey) -> OpenedEnvelope:
    """Decrypt a v1 envelope with the connector's private key; any tampering is an EnvelopeError."""
    if envelope.session:
        raise EnvelopeError("envelope: an OGE2 envelope opens through a session opener")
    try:
        plaintext = SUITE.decrypt(envelope.ciphertext, private_key, info=envelope.info())
    except (InvalidTag, ValueError) as exc:  # InvalidTag: altered, or sealed to another key
        message = f"envelope does not open with this connector key ({type(exc).__name__})"
        raise EnvelopeError(message) from None
    return _opened(plaintext)


def session_opener(connector_keys: Mapping[str, X25519PrivateKey]) -> SessionOpener:
    """What opens v2 envelopes sealed to any of ``connector_keys``."""
    return SessionOpener(connector_keys, SESSION_WRAP_PREFIX)


def open_session_envelope(envelope: Envelope, opener: SessionOpener) -> OpenedEnvelope:
    """Decrypt a v2 envelope: unwrap (or recall) its session key, then AES-GCM over the header.

    The header authenticated is the one ``from_bytes`` read (the codec has one encoding per value,
    so it is exactly ``header()`` of a built envelope).
    """
    info = envelope.info()
    try:
        cipher = opener.cipher(envelope.connector_key_id, envelope.session)
        plaintext = open_message(cipher, envelope.sequence, envelope.ciphertext, info)
    except SessionError as exc:
        raise EnvelopeError(f"envelope does not open with this connector key: {exc}") from None
    return _opened(plaintext)


def _opened(plaintext: bytes) -> OpenedEnvelope:
    try:
        reader = Reader(plaintext, "envelope plaintext")
        opened = OpenedEnvelope(reader.blob(), reader.text(), reader.blob(), reader.blob(), reader.blob())
        reader.finish()
    except CodecError as exc:
        raise EnvelopeError(str(exc)) from None
    return opened
