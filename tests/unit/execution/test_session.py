"""Session sealing: envelope v2 and drop copy v2, one HPKE operation per session, AES-GCM per message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderguard.config import FirmConfig
from orderguard.execution import DropCopy, Envelope, EnvelopeError, open_drop_copy, open_envelope
from orderguard.execution.dropcopy import SESSION_WRAP_PREFIX as DROP_COPY_PREFIX
from orderguard.execution.dropcopy import drop_copy_session
from orderguard.execution.envelope import SESSION_WRAP_PREFIX, open_session_envelope, session_opener
from orderguard.execution.session import SessionError, SessionOpener, SessionSealer, nonce_for, open_message
from tests.execution_support import World


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm, sessions=True)


class FakeMonotonic:
    """A settable monotonic clock in seconds."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sealer(world: World, **options: object) -> SessionSealer:
    public = world.x25519("connector").public_key()
    return SessionSealer(world.key_id("connector"), public, SESSION_WRAP_PREFIX, **options)  # type: ignore[arg-type]


class TestSessionSealer:
    def test_messages_of_one_session_share_the_wrapped_key_and_never_a_sequence_number(
        self, world: World
    ) -> None:
        """Within a session the wrapped key is the same and sequence numbers count up from zero."""
        session = sealer(world)
        handed = [session.next() for _ in range(5)]
        assert {wrapped for wrapped, _, _ in handed} == {handed[0][0]}
        assert [sequence for _, sequence, _ in handed] == [0, 1, 2, 3, 4]
        assert session.sessions == 1

    def test_a_session_rotates_after_its_message_limit(self, world: World) -> None:
        """The third message of a two-message session starts a new session key at sequence zero."""
        session = sealer(world, max_messages=2)
        first, second, third = session.next(), session.next(), session.next()
        assert first[0] == second[0] != third[0]
        assert third[1] == 0
        assert session.sessions == 2

    def test_a_session_rotates_after_its_age_limit(self, world: World) -> None:
        """A session older than max_age_s is replaced on the next message."""
        clock = FakeMonotonic()
        session = sealer(world, max_age_s=1.0, monotonic=clock)
        first = session.next()
        clock.now += 0.5
        assert session.next()[0] == first[0]
        clock.now += 0.6
        assert session.next()[0] != first[0]

    def test_a_zero_message_session_is_a_configuration_error(self, world: World) -> None:
        """max_messages must be positive."""
        with pytest.raises(ValueError, match="messages"):
            sealer(world, max_messages=0)


class TestSessionOpener:
    def test_a_session_is_unwrapped_once_and_recalled_after(self, world: World) -> None:
        """The opener hands back the same cipher for every message of a session."""
        session = sealer(world)
        wrapped, _, _ = session.next()
        opener = session_opener({world.key_id("connector"): world.x25519("connector")})
        assert opener.cipher(world.key_id("connector"), wrapped) is opener.cipher(
            world.key_id("connector"), wrapped
        )

    def test_a_session_wrapped_to_another_key_does_not_open(self, world: World) -> None:
        """Only the recipient's private key unwraps the session; the key id is bound into the wrap."""
        wrapped, _, _ = sealer(world).next()
        other = SessionOpener(
            {world.key_id("connector"): world.x25519("other-connector")}, SESSION_WRAP_PREFIX
        )
        with pytest.raises(SessionError, match="does not open"):
            other.cipher(world.key_id("connector"), wrapped)
        relabelled = SessionOpener({"k-other": world.x25519("connector")}, SESSION_WRAP_PREFIX)
        with pytest.raises(SessionError, match="does not open"):
            relabelled.cipher("k-other", wrapped)

    def test_a_session_for_drop_copies_does_not_open_as_an_envelope_session(self, world: World) -> None:
        """Envelope and drop-copy sessions are wrapped under different HPKE info: no cross-use."""
        wrapped, _, _ = SessionSealer(
            world.key_id("connector"), world.x25519("connector").public_key(), DROP_COPY_PREFIX
        ).next()
        opener = session_opener({world.key_id("connector"): world.x25519("connector")})
        with pytest.raises(SessionError):
            opener.cipher(world.key_id("connector"), wrapped)

    def test_a_message_opens_only_with_its_own_sequence_number_and_header(self, world: World) -> None:
        """The nonce and the associated data are both authenticated."""
        _, sequence, cipher = sealer(world).next()
        sealed = cipher.encrypt(nonce_for(sequence), b"order", b"header")
        assert open_message(cipher, sequence, sealed, b"header") == b"order"
        with pytest.raises(SessionError):
            open_message(cipher, sequence + 1, sealed, b"header")
        with pytest.raises(SessionError):
            open_message(cipher, sequence, sealed, b"headers")


class TestEnvelopeV2:
    def test_a_v2_envelope_round_trips_and_opens_at_the_connector(self, world: World) -> None:
        """An OGE2 envelope parses back to itself and opens to the signed intent."""
        intent = world.intent()
        data = world.envelope(intent)
        assert data.startswith(b"OGE2")
        envelope = Envelope.from_bytes(data)
        assert envelope.to_bytes() == data
        assert envelope.session
        opened = open_session_envelope(
            envelope, session_opener({world.key_id("connector"): world.x25519("connector")})
        )
        assert opened.canonical == intent.canonical_bytes()

    def test_a_parsed_envelope_opens_over_the_header_it_was_read_with(self, world: World) -> None:
        """An envelope parsed from bytes opens as the same envelope re-parsed from its own bytes; one
        whose header was changed after sealing does not open, parsed or built."""
        data = world.envelope()
        envelope = Envelope.from_bytes(data)
        opener = session_opener({world.key_id("connector"): world.x25519("connector")})
        reparsed = Envelope.from_bytes(envelope.to_bytes())
        assert open_session_envelope(envelope, opener) == open_session_envelope(reparsed, opener)
        later = replace(envelope, expires_ns=envelope.expires_ns + 1)
        with pytest.raises(EnvelopeError, match="does not open"):
            open_session_envelope(later, opener)
        with pytest.raises(EnvelopeError, match="does not open"):
            open_session_envelope(Envelope.from_bytes(later.to_bytes()), opener)

    def test_the_clear_header_of_a_v2_envelope_holds_only_routing_fields(self, world: World) -> None:
        """No symbol, account, side, quantity, price, originator or order id in the clear."""
        intent = world.intent(symbol="NVDA", account="C-HEDGE-2")
        data = world.envelope(intent)
        for secret in (b"NVDA", b"C-HEDGE-2", b"alice", b"buy", b"187.25", intent.order_id.encode()):
            assert secret not in data

    def test_a_v2_envelope_without_a_session_key_is_refused_at_parse_time(self, world: World) -> None:
        """OGE2 with an empty session field is malformed, not a v1 envelope in disguise."""
        data = world.envelope()
        v1_header = Envelope.from_bytes(replace(Envelope.from_bytes(data), session=b"").to_bytes())
        forged = b"OGE2" + v1_header.to_bytes()[4:]
        with pytest.raises(EnvelopeError):
            Envelope.from_bytes(forged)

    def test_the_single_shot_opener_refuses_a_v2_envelope_by_name(self, world: World) -> None:
        """open_envelope says a v2 envelope needs the session opener."""
        with pytest.raises(EnvelopeError, match="session opener"):
            open_envelope(Envelope.from_bytes(world.envelope()), world.x25519("connector"))

    def test_many_v2_envelopes_of_one_session_are_each_accepted_once(self, world: World) -> None:
        """Every order of a session is accepted, and replaying any one of them is refused."""
        envelopes = [world.envelope() for _ in range(5)]
        assert world.session().sessions == 1
        assert all(world.connector.handle(e).accepted for e in envelopes)
        assert not world.connector.handle(envelopes[2]).accepted


class TestDropCopyV2:
    def test_the_connector_seals_drop_copies_under_a_session_that_surveillance_opens(
        self, world: World
    ) -> None:
        """Drop copies are OGD2 and open with the surveillance key to the order and its outcome."""
        intent = world.intent()
        result = world.connector.handle(world.envelope(intent))
        assert result.drop_copy is not None
        data = result.drop_copy.to_bytes()
        assert data.startswith(b"OGD2")
        copy = DropCopy.from_bytes(data)
        assert copy == result.drop_copy
        contents = open_drop_copy(copy, world.x25519("surveillance"))
        assert contents.intent == intent
        assert b"AAPL" not in data

    def test_an_altered_or_misdirected_v2_drop_copy_does_not_open(self, world: World) -> None:
        """A flipped ciphertext byte, a changed sequence number or another key: each an EnvelopeError."""
        result = world.connector.handle(world.envelope())
        assert result.drop_copy is not None
        copy = result.drop_copy
        flipped = replace(copy, ciphertext=bytes([copy.ciphertext[0] ^ 1]) + copy.ciphertext[1:])
        for bad in (flipped, replace(copy, sequence=copy.sequence + 1)):
            with pytest.raises(EnvelopeError, match="does not open"):
                open_drop_copy(bad, world.x25519("surveillance"))
        with pytest.raises(EnvelopeError, match="does not open"):
            open_drop_copy(copy, world.x25519("connector"))

    def test_a_drop_copy_session_refuses_another_recipient(self, world: World) -> None:
        """seal_drop_copy checks that the session is for the named surveillance key."""
        from orderguard.domain import ReasonCode
        from orderguard.execution.dropcopy import seal_drop_copy

        session = drop_copy_session("k-someone-else", world.x25519("surveillance").public_key())
        with pytest.raises(ValueError, match="session"):
            seal_drop_copy(
                canonical=b"{}",
                digest=b"\x00" * 32,
                originator_key_id="k",
                signature=b"",
                outcome=ReasonCode.ALLOWED,
                connector_id="c",
                decided_ns=1,
                recipient_key_id=world.key_id("surveillance"),
                recipient=world.x25519("surveillance").public_key(),
                session=session,
            )
