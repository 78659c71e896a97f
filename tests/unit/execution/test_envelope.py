"""Envelope and attestation formats: round trips, strict parsing, what is clear and what is sealed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode
from orderguard.execution import Attestation, AttestedOrder, Envelope, EnvelopeError, attest, open_envelope
from orderguard.execution._codec import CodecError, Reader, Writer
from tests.execution_support import World


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm)


class TestCodec:
    def test_fields_round_trip(self) -> None:
        """A u64, text and a blob read back as written."""
        data = Writer().u64(7).text("é").blob(b"\x00\x01").getvalue()
        reader = Reader(data, "test")
        assert (reader.u64(), reader.text(), reader.blob()) == (7, "é", b"\x00\x01")
        reader.finish()

    def test_truncation_and_trailing_bytes_are_refused(self) -> None:
        """Short input and leftovers are CodecErrors that say where."""
        data = Writer().blob(b"abc").getvalue()
        with pytest.raises(CodecError, match="truncated"):
            Reader(data[:-1], "test").blob()
        reader = Reader(data + b"x", "test")
        reader.blob()
        with pytest.raises(CodecError, match="trailing"):
            reader.finish()


class TestEnvelope:
    def test_serialized_envelope_round_trips(self, world: World) -> None:
        """from_bytes(to_bytes(e)) == e."""
        envelope = Envelope.from_bytes(world.envelope())
        assert Envelope.from_bytes(envelope.to_bytes()) == envelope

    def test_the_clear_header_holds_only_routing_fields(self, world: World) -> None:
        """Key id, digest and expiry are clear; no symbol, account, side, quantity, price or originator."""
        intent = world.intent(symbol="NVDA", account="C-HEDGE-2")
        data = world.envelope(intent)
        envelope = Envelope.from_bytes(data)
        assert envelope.digest == intent.digest()
        assert envelope.expires_ns == intent.expires_ns
        assert envelope.connector_key_id == world.key_id("connector")
        for secret in (b"NVDA", b"C-HEDGE-2", b"alice", b"buy", b"187.25", intent.order_id.encode()):
            assert secret not in data

    def test_the_connector_key_opens_and_finds_everything(self, world: World) -> None:
        """Opening yields the canonical intent, the originator's key id and signature, and the attestation."""
        intent = world.intent()
        opened = open_envelope(Envelope.from_bytes(world.envelope(intent)), world.x25519("connector"))
        assert opened.canonical == intent.canonical_bytes()
        assert opened.key_id == world.key_id("alice")
        assert len(opened.signature) == 64
        assert Attestation.decode(opened.attestation).entry_for(intent.digest()) is not None

    def test_other_keys_cannot_open(self, world: World) -> None:
        """Neither another connector's nor the surveillance key opens an envelope."""
        envelope = Envelope.from_bytes(world.envelope())
        for name in ("other-connector", "surveillance"):
            with pytest.raises(EnvelopeError, match="does not open"):
                open_envelope(envelope, world.x25519(name))

    def test_a_short_digest_is_refused_at_parse_time(self, world: World) -> None:
        """The digest field must be 32 bytes."""
        envelope = Envelope.from_bytes(world.envelope())
        with pytest.raises(EnvelopeError, match="digest"):
            Envelope.from_bytes(replace(envelope, digest=b"\x00" * 31).to_bytes())


class TestAttestation:
    def test_round_trip_with_approvals(self, world: World) -> None:
        """An attestation with policy ids and approvals decodes to an equal value."""
        digest = world.intent().digest()
        approvals = (world.approval(digest, "carol-approval"), world.approval(digest, "olga-approval"))
        attestation = world.attestation(digest, approvals)
        assert Attestation.decode(attestation.encode()) == attestation

    def test_one_batch_attestation_covers_several_orders(self, world: World) -> None:
        """A micro-batch attestation is accepted for each order it names."""
        from orderguard.execution import seal

        signed = [world.sign(world.intent()) for _ in range(3)]
        entries = tuple(AttestedOrder(s.digest, True, ReasonCode.ALLOWED, ("p1",)) for s in signed)
        batch = attest(entries, world.key_id("controls"), world.ed25519("controls"), world.clock.now_ns)
        public = world.x25519("connector").public_key()
        for one in signed:
            result = world.connector.handle(seal(one, batch, world.key_id("connector"), public).to_bytes())
            assert result.accepted, result.decision
            assert result.decision.policy_ids == ("p1",)

    def test_a_decision_flag_other_than_0_or_1_is_refused(self, world: World) -> None:
        """The decoder refuses an out-of-range decision flag."""
        digest = world.intent().digest()
        raw = world.attestation(digest, (), Decision.allow()).encode()
        position = raw.index(digest) + len(digest) + 7  # last byte of the u64 flag
        with pytest.raises(ValueError, match="flag"):
            Attestation.decode(raw[:position] + b"\x02" + raw[position + 1 :])
