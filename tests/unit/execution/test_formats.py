"""Wire layouts written field by field from docs/execution.md: the writers must give exactly these bytes."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.domain import ReasonCode
from orderguard.execution import Approval, Attestation, AttestedOrder, Envelope
from orderguard.execution._codec import CodecError, Reader, Writer, blobs, u64
from orderguard.execution.dropcopy import DropCopy
from orderguard.execution.envelope import SESSION_WRAP_PREFIX
from orderguard.execution.session import SessionError, SessionOpener, SessionSealer

DIGEST = bytes(range(32))


def blob(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def q(value: int) -> bytes:
    return struct.pack(">Q", value)


class TestCodecHelpers:
    def test_blobs_writes_what_the_writer_writes(self) -> None:
        """blobs(a, b, c) equals Writer().blob(a).blob(b).blob(c)."""
        fields = (b"", b"x", "é".encode(), bytes(300))
        assert blobs(*fields) == Writer().blob(b"").blob(b"x").text("é").blob(bytes(300)).getvalue()
        assert u64(2**64 - 1) == Writer().u64(2**64 - 1).getvalue()

    def test_blobs_refuses_an_oversized_field(self) -> None:
        """A field beyond the codec's limit is refused when written, as by the Writer."""
        with pytest.raises(CodecError, match="exceeds"):
            blobs(bytes((1 << 20) + 1))

    def test_a_length_running_past_the_end_names_where(self) -> None:
        """A blob whose length runs past the data is 'truncated' at the byte after its length."""
        with pytest.raises(CodecError, match="truncated at byte 4 \\(needed 5 more bytes\\)"):
            Reader(struct.pack(">I", 5) + b"abc", "test").blob()


class TestEnvelopeLayout:
    def test_v1_header_and_bytes(self) -> None:
        """OGE1: magic, key id, digest, expiry, then the ciphertext blob."""
        envelope = Envelope("kconn", DIGEST, 77, b"sealed")
        header = b"OGE1" + blob(b"kconn") + blob(DIGEST) + q(77)
        assert envelope.header() == header
        assert envelope.to_bytes() == header + blob(b"sealed")
        assert envelope.info() == b"orderguard/envelope/v1\x00" + header

    def test_v2_header_and_bytes(self) -> None:
        """OGE2: the v1 header fields, then the wrapped session key and the sequence number."""
        envelope = Envelope("kconn", DIGEST, 77, b"sealed", b"wrapped-key", 9)
        header = b"OGE2" + blob(b"kconn") + blob(DIGEST) + q(77) + blob(b"wrapped-key") + q(9)
        assert envelope.header() == header
        assert envelope.to_bytes() == header + blob(b"sealed")
        assert envelope.info() == b"orderguard/envelope/v2\x00" + header

    @pytest.mark.parametrize("session", [b"", b"wrapped-key"])
    def test_a_parsed_envelope_keeps_exactly_the_header_it_read(self, session: bytes) -> None:
        """The header kept from parsing is the one the fields encode to."""
        data = Envelope("kconn", DIGEST, 77, b"sealed", session, 3 if session else 0).to_bytes()
        parsed = Envelope.from_bytes(data)
        assert parsed.header() == data[: len(data) - len(blob(b"sealed"))]
        assert parsed.header() == Envelope("kconn", DIGEST, 77, b"x", session, parsed.sequence).header()


class TestDropCopyLayout:
    @pytest.mark.parametrize(("session", "magic"), [(b"", b"OGD1"), (b"wrapped", b"OGD2")])
    def test_header_and_bytes(self, session: bytes, magic: bytes) -> None:
        """OGD1: magic, key id, digest; OGD2 adds the wrapped session key and the sequence number."""
        copy = DropCopy("ksurv", DIGEST, b"ct", session, 4 if session else 0)
        header = magic + blob(b"ksurv") + blob(DIGEST) + (blob(session) + q(4) if session else b"")
        assert copy.header() == header
        assert copy.to_bytes() == header + blob(b"ct")
        assert DropCopy.from_bytes(copy.to_bytes()) == copy


class TestAttestationLayout:
    def test_body_and_encoding(self) -> None:
        """OGA1: key id, issue time, entry count, then each entry with its policies and approvals."""
        approval = Approval("carol", "kcarol", DIGEST, b"s" * 64)
        entries = (
            AttestedOrder(DIGEST, True, ReasonCode.ALLOWED, ("p1", "p2"), (approval,)),
            AttestedOrder(DIGEST[::-1], False, ReasonCode.VENUE_NOT_APPROVED),
        )
        attestation = Attestation("kctl", 123, entries, b"z" * 64)
        first = (
            blob(DIGEST) + q(1) + blob(b"ALLOWED") + q(2) + blob(b"p1") + blob(b"p2") + q(1)
            + blob(b"carol") + blob(b"kcarol") + blob(DIGEST) + blob(b"s" * 64)
        )  # fmt: skip
        second = blob(DIGEST[::-1]) + q(0) + blob(b"VENUE_NOT_APPROVED") + q(0) + q(0)
        body = b"OGA1" + blob(b"kctl") + q(123) + q(2) + first + second
        assert attestation.signed_bytes() == body
        assert attestation.encode() == blob(body) + blob(b"z" * 64)
        assert Attestation.decode(attestation.encode()) == attestation


class TestSessionOpenerCache:
    def test_a_remembered_session_is_not_handed_out_under_another_key_id(self) -> None:
        """The unwrapped-key cache is keyed by the wrapped key and also checks the key id it opened under."""
        key = X25519PrivateKey.generate()
        other = X25519PrivateKey.generate()
        wrapped = SessionSealer("k1", key.public_key(), SESSION_WRAP_PREFIX).next()[0]
        opener = SessionOpener({"k1": key, "k2": other}, SESSION_WRAP_PREFIX)
        assert opener.cipher("k1", wrapped) is opener.cipher("k1", wrapped)
        with pytest.raises(SessionError):
            opener.cipher("k2", wrapped)
