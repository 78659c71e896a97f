"""Attacks on the sealed execution path: each refused at the connector, with its reason code, and audited."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, Decision, ReasonCode
from orderguard.execution import (
    Attestation,
    AttestedOrder,
    ConnectorResult,
    Envelope,
    SignedOrder,
    attest,
    attest_order,
    sign_orders,
)
from tests.execution_support import SECOND, World, with_quorum, with_trading_approver


@pytest.fixture(params=["hpke", "session"])
def world(firm: FirmConfig, request: pytest.FixtureRequest) -> World:
    """The example firm with a large-order quorum of two; envelopes v1 (HPKE) or v2 (session key)."""
    return World(with_quorum(firm, 2), sessions=request.param == "session")


def assert_refused(world: World, result: ConnectorResult, reason: ReasonCode) -> None:
    """Refused with ``reason``, audited as such, and nothing reached the venue."""
    assert result.decision.reason is reason, result.decision
    assert not result.accepted
    entry = world.audit.entries[result.audit_index]
    assert entry.action is AuditAction.REFUSED
    assert entry.decision == "deny"
    assert entry.reason_code == reason.value
    assert entry.actor == "service:connector-1"
    assert result.executions == ()
    assert world.venue.received == []


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


class TestBaseline:
    def test_a_proper_order_is_accepted_audited_and_filled(self, world: World) -> None:
        """A signed, attested, sealed order reaches the venue, is audited as executed and fills."""
        intent = world.intent()
        result = world.connector.handle(world.envelope(intent))
        assert result.accepted, result.decision
        entry = world.audit.entries[result.audit_index]
        assert (entry.action, entry.decision, entry.reason_code) == (AuditAction.EXECUTED, "allow", "ALLOWED")
        assert entry.object_id == intent.digest().hex()
        assert world.venue.received == [intent]
        assert sum(Decimal(str(e.qty)) for e in result.executions) == intent.qty

    def test_a_large_order_with_two_distinct_eligible_approvals_is_accepted(self, world: World) -> None:
        """Above the notional threshold, two approvals by different order approvers suffice."""
        envelope = world.envelope(world.large_intent(), approvers=("carol-approval", "olga-approval"))
        assert world.connector.handle(envelope).accepted

    def test_the_audit_entry_does_not_carry_order_intent(self, world: World) -> None:
        """The connector logs identifiers only: symbol, quantity, price and account stay sealed."""
        result = world.connector.handle(world.envelope(world.intent(symbol="NVDA", account="C-HEDGE-1")))
        text = repr(world.audit.entries[result.audit_index])
        assert "NVDA" not in text
        assert "C-HEDGE-1" not in text


class TestTampering:
    def test_flipped_ciphertext_bytes_are_refused(self, world: World) -> None:
        """Flipping a byte inside the HPKE ciphertext breaks the AEAD tag."""
        envelope = world.envelope()
        assert_refused(
            world, world.connector.handle(flip(envelope, len(envelope) - 40)), ReasonCode.SEAL_INVALID
        )

    def test_an_altered_clear_header_is_refused(self, world: World) -> None:
        """The clear expiry is bound as HPKE info: extending it makes the envelope unopenable."""
        parsed = Envelope.from_bytes(world.envelope())
        longer = replace(parsed, expires_ns=parsed.expires_ns + 3600 * SECOND)
        assert_refused(world, world.connector.handle(longer.to_bytes()), ReasonCode.SEAL_INVALID)

    def test_an_envelope_sealed_to_another_connector_is_refused(self, world: World) -> None:
        """An envelope for connector-2 does not open here, even relabelled with this connector's key id."""
        envelope = world.envelope(to="other-connector")
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SEAL_INVALID)
        relabelled = replace(Envelope.from_bytes(envelope), connector_key_id=world.key_id("connector"))
        assert_refused(world, world.connector.handle(relabelled.to_bytes()), ReasonCode.SEAL_INVALID)

    def test_an_envelope_sealed_to_a_revoked_connector_key_is_refused(self, world: World) -> None:
        """Once the connector key is revoked, envelopes sealed to it are refused, not opened."""
        envelope = world.envelope()
        record = world.records["connector"]
        world.directory.add(
            replace(record, revoked_ns=world.clock.now_ns, revocation_reason="host compromised")
        )
        assert_refused(world, world.connector.handle(envelope), ReasonCode.KEY_REVOKED)

    def test_an_order_field_changed_after_signing_is_refused(self, world: World) -> None:
        """Reusing the originator's signature on a changed quantity fails, even with an attestation."""
        signed = world.sign(world.intent())
        changed = replace(signed.intent, qty=Decimal(100_000))
        forged = SignedOrder(
            changed, changed.canonical_bytes(), changed.digest(), signed.key_id, signed.signature
        )
        envelope = world.seal(forged, world.attestation(forged.digest))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SIGNATURE_INVALID)

    def test_a_refusal_before_opening_is_not_filed_under_the_claimed_digest(self, world: World) -> None:
        """An unopenable envelope is audited under its own hash; the clear digest is only a claim."""
        envelope = world.envelope()
        claimed = Envelope.from_bytes(envelope).digest.hex()
        world.connector.handle(flip(envelope, len(envelope) - 1))
        entry = world.audit.last
        assert entry.object_id.startswith("envelope-sha256:")
        assert entry.after is not None
        assert entry.after["claimed_digest"] == claimed

    def test_garbage_is_refused_and_audited_by_its_hash(self, world: World) -> None:
        """Bytes that are no envelope at all are refused and audited under their SHA-256."""
        result = world.connector.handle(b"not an envelope")
        assert_refused(world, result, ReasonCode.SEAL_INVALID)
        assert world.audit.last.object_id.startswith("envelope-sha256:")


class TestReplayAndExpiry:
    def test_a_replayed_envelope_is_refused(self, world: World) -> None:
        """The same envelope twice: the first is accepted, the second refused as a replay."""
        envelope = world.envelope()
        assert world.connector.handle(envelope).accepted
        world.venue.received.clear()
        assert_refused(world, world.connector.handle(envelope), ReasonCode.REPLAYED)

    def test_a_reused_order_id_or_nonce_is_refused(self, world: World) -> None:
        """A fresh signature does not make an order id or a nonce usable twice."""
        first = world.intent()
        assert world.connector.handle(world.envelope(first)).accepted
        world.venue.received.clear()
        same_id = world.intent(order_id=first.order_id)
        assert_refused(world, world.connector.handle(world.envelope(same_id)), ReasonCode.REPLAYED)
        same_nonce = world.intent(nonce=first.nonce)
        assert_refused(world, world.connector.handle(world.envelope(same_nonce)), ReasonCode.REPLAYED)

    def test_an_expired_envelope_is_refused(self, world: World) -> None:
        """An envelope opened after its expiry is refused."""
        envelope = world.envelope()
        world.clock.advance(31)
        assert_refused(world, world.connector.handle(envelope), ReasonCode.EXPIRED)

    def test_an_order_living_longer_than_the_maximum_is_refused(self, world: World) -> None:
        """An expiry beyond the maximum lifetime would outlive the replay cache, so it is refused."""
        intent = world.intent(expires_ns=world.clock.now_ns + 3600 * SECOND)
        assert_refused(world, world.connector.handle(world.envelope(intent)), ReasonCode.EXPIRED)


class TestSignatures:
    def test_an_unsigned_order_is_refused(self, world: World) -> None:
        """An order without an originator signature never reaches the venue."""
        signed = world.sign(world.intent())
        unsigned = replace(signed, signature=b"")
        envelope = world.seal(unsigned, world.attestation(signed.digest))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SIGNATURE_INVALID)

    def test_an_order_signed_with_someone_elses_key_is_refused(self, world: World) -> None:
        """Bob's key cannot sign for Alice."""
        envelope = world.envelope(world.intent(), signer="bob")
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SIGNATURE_INVALID)

    def test_a_signature_by_a_revoked_key_is_refused(self, world: World) -> None:
        """Once Alice's key is revoked, orders signed with it are refused."""
        envelope = world.envelope()
        record = world.records["alice"]
        world.directory.add(
            replace(record, revoked_ns=world.clock.now_ns - 1, revocation_reason="laptop lost")
        )
        assert_refused(world, world.connector.handle(envelope), ReasonCode.KEY_REVOKED)

    def test_a_signature_by_a_rotated_out_key_is_refused(self, world: World) -> None:
        """A key whose validity window closed before the order was created no longer signs orders."""
        record = world.records["alice"]
        world.directory.add(replace(record, not_after_ns=world.clock.now_ns - SECOND))
        assert_refused(world, world.connector.handle(world.envelope()), ReasonCode.KEY_EXPIRED)

    def test_a_rotated_key_still_signs_inside_its_overlap_window(self, world: World) -> None:
        """During the overlap window the old key remains valid."""
        record = world.records["alice"]
        world.directory.add(replace(record, not_after_ns=world.clock.now_ns + 60 * SECOND))
        assert world.connector.handle(world.envelope()).accepted

    def test_a_key_custodian_cannot_originate_orders(self, world: World) -> None:
        """An order signed by a key custodian's own key is refused as a separation-of-duties conflict."""
        envelope = world.envelope(world.intent(originator="kim"), signer="kim-orders")
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SOD_CONFLICTING_ROLES)

    def test_a_desk_key_signs_only_for_its_own_desk(self, world: World) -> None:
        """The equities desk key signs for Alice (equities) but not for Tom (derivatives)."""
        assert world.connector.handle(world.envelope(signer="desk-equities")).accepted
        world.venue.received.clear()
        envelope = world.envelope(world.intent(originator="tom"), signer="desk-equities")
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SIGNATURE_INVALID)


class TestApprovalQuorum:
    def test_a_large_order_with_one_approval_is_refused(self, world: World) -> None:
        """The quorum is recomputed from the decrypted notional: one approval is not two."""
        envelope = world.envelope(world.large_intent(), approvers=("carol-approval",))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_REQUIRED)

    def test_an_order_exactly_at_the_threshold_needs_no_approval(self, world: World) -> None:
        """Only notional strictly above the threshold is large: 1,000,000 exactly passes unapproved."""
        intent = world.intent(qty=Decimal(10_000), price=Decimal(100))
        assert world.connector.handle(world.envelope(intent)).accepted

    def test_an_originator_cannot_approve_their_own_order(self, firm: FirmConfig) -> None:
        """Tess trades and approves, but her approval of her own order is refused."""
        world = World(with_trading_approver(with_quorum(firm, 2)))
        intent = world.large_intent(originator="tess")
        envelope = world.envelope(intent, signer="tess", approvers=("carol-approval", "tess-approval"))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SOD_SELF_APPROVAL)

    def test_a_large_order_without_approvals_is_refused_even_if_attested(self, world: World) -> None:
        """A controls attestation does not replace the approvers' own signatures."""
        envelope = world.envelope(world.large_intent())
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_REQUIRED)

    def test_two_approvals_by_the_same_person_are_refused(self, world: World) -> None:
        """Two keys of one approver count once."""
        envelope = world.envelope(world.large_intent(), approvers=("olga-approval", "olga-approval-2"))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_DUPLICATE_APPROVER)

    def test_the_same_approval_twice_is_refused(self, world: World) -> None:
        """Repeating one approval does not make a quorum."""
        envelope = world.envelope(world.large_intent(), approvers=("carol-approval", "carol-approval"))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_DUPLICATE_APPROVER)

    def test_approvals_over_another_digest_are_refused(self, world: World) -> None:
        """Approvals given for a different order are stale for this one."""
        intent, other = world.large_intent(), world.large_intent()
        signed = world.sign(intent)
        approvals = tuple(world.approval(other.digest(), n) for n in ("carol-approval", "olga-approval"))
        envelope = world.seal(signed, world.attestation(signed.digest, approvals))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_STALE)

    def test_an_approval_by_someone_without_the_approver_role_is_refused(self, world: World) -> None:
        """Ana is an analyst: her signature does not count toward the quorum."""
        envelope = world.envelope(world.large_intent(), approvers=("carol-approval", "ana-approval"))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.APPROVAL_NOT_ELIGIBLE)

    def test_a_forged_approval_signature_is_refused(self, world: World) -> None:
        """An approval claiming Chris but signed with Carol's key is refused."""
        signed = world.sign(world.large_intent())
        real = world.approval(signed.digest, "carol-approval")
        forged = replace(world.approval(signed.digest, "olga-approval"), signature=real.signature)
        envelope = world.seal(signed, world.attestation(signed.digest, (real, forged)))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.SIGNATURE_INVALID)


class TestControlsAttestation:
    def test_an_order_injected_without_attestation_is_refused(self, world: World) -> None:
        """A validly signed order put straight on the queue, skipping the controls, is refused."""
        envelope = world.envelope(attested=False)
        assert_refused(world, world.connector.handle(envelope), ReasonCode.ATTESTATION_MISSING)

    def test_an_attestation_for_another_order_is_refused(self, world: World) -> None:
        """An attestation lifted from another order does not cover this one."""
        signed, other = world.sign(world.intent()), world.sign(world.intent())
        envelope = world.seal(signed, world.attestation(other.digest))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.ATTESTATION_INVALID)

    def test_an_attestation_signed_by_a_non_controls_key_is_refused(self, world: World) -> None:
        """Only the controls service's attestation key can attest."""
        signed = world.sign(world.intent())
        forged = attest_order(
            signed.digest,
            Decision.allow(),
            (),
            controls_key_id=world.key_id("carol-approval"),
            key=world.ed25519("carol-approval"),
            issued_ns=world.clock.now_ns,
        )
        sealed = world.seal(signed, forged)
        assert_refused(world, world.connector.handle(sealed), ReasonCode.ATTESTATION_INVALID)

    def test_an_attestation_altered_after_signing_is_refused(self, world: World) -> None:
        """Turning an attested refusal into an allow breaks the controls' signature."""
        signed = world.sign(world.intent())
        refusal = Decision.deny(ReasonCode.RESTRICTED_SYMBOL, "restricted")
        original = world.attestation(signed.digest, decision=refusal)
        flipped = replace(original.orders[0], allowed=True, reason=ReasonCode.ALLOWED)
        altered = replace(original, orders=(flipped,))
        sealed = world.seal(signed, altered)
        assert_refused(world, world.connector.handle(sealed), ReasonCode.ATTESTATION_INVALID)

    def test_an_attested_refusal_is_refused_with_the_controls_reason(self, world: World) -> None:
        """If the controls said no, the connector says no, with the controls' reason code."""
        signed = world.sign(world.intent(symbol="NBSC"))
        refusal = Decision.deny(ReasonCode.RESTRICTED_SYMBOL, "NBSC is restricted")
        attestation = world.attestation(signed.digest, decision=refusal)
        sealed = world.seal(signed, attestation)
        assert_refused(world, world.connector.handle(sealed), ReasonCode.RESTRICTED_SYMBOL)

    def test_a_verified_attestation_does_not_vouch_for_altered_bytes_under_its_signature(
        self, world: World
    ) -> None:
        """Once an attestation verified (and is cached), other bytes under its signature are checked anew."""
        first, second = world.sign(world.intent()), world.sign(world.intent())
        entries = tuple(AttestedOrder(s.digest, True, ReasonCode.ALLOWED, ("p",)) for s in (first, second))
        attestation = attest(entries, world.key_id("controls"), world.ed25519("controls"), world.clock.now_ns)
        assert world.connector.handle(world.seal(first, attestation)).accepted
        world.venue.received.clear()
        widened = replace(attestation.orders[1], policy_ids=("p", "forged-exemption"))
        altered = replace(attestation, orders=(attestation.orders[0], widened)).encode()
        assert altered[-64:] == attestation.signature  # same signature, other signed bytes
        result = world.connector.handle(world.seal(second, altered))  # type: ignore[arg-type]
        assert_refused(world, result, ReasonCode.ATTESTATION_INVALID)

    def test_an_unapproved_venue_is_refused(self, world: World) -> None:
        """The connector re-checks the venue allowlist itself, even when the controls attested the order."""
        envelope = world.envelope(world.intent(venue="DARK-X"))
        assert_refused(world, world.connector.handle(envelope), ReasonCode.VENUE_NOT_APPROVED)


class TestBatchSignatures:
    def _batch(self, world: World, count: int = 4) -> tuple[list[SignedOrder], Attestation]:
        intents = [world.intent(originator=("alice", "bob")[i % 2]) for i in range(count)]
        signed = sign_orders(intents, world.key_id("desk-equities"), world.ed25519("desk-equities"))
        entries = tuple(AttestedOrder(s.digest, True, ReasonCode.ALLOWED, ("p",)) for s in signed)
        return signed, attest(
            entries, world.key_id("controls"), world.ed25519("controls"), world.clock.now_ns
        )

    def test_a_desk_batch_signature_covers_each_of_its_orders(self, world: World) -> None:
        """One desk signature over a burst of orders verifies for every order in it."""
        signed, attestation = self._batch(world)
        results = [world.connector.handle(world.seal(s, attestation)) for s in signed]
        assert all(r.accepted for r in results), [r.decision for r in results]

    def test_an_order_outside_the_signed_batch_is_refused(self, world: World) -> None:
        """Pairing another batch's signature with an order it does not list is refused."""
        first, _ = self._batch(world)
        second, attestation = self._batch(world)
        borrowed = replace(second[0], signature=first[0].signature, batch=first[0].batch)
        result = world.connector.handle(world.seal(borrowed, attestation))
        assert_refused(world, result, ReasonCode.SIGNATURE_INVALID)

    def test_a_tampered_batch_is_refused(self, world: World) -> None:
        """Changing any digest in the signed list breaks the batch signature."""
        signed, attestation = self._batch(world)
        tampered = replace(signed[0], batch=signed[0].batch[:-1] + bytes([signed[0].batch[-1] ^ 1]))
        assert_refused(
            world, world.connector.handle(world.seal(tampered, attestation)), ReasonCode.SIGNATURE_INVALID
        )

    def test_a_verified_batch_signature_does_not_cover_a_tampered_list(self, world: World) -> None:
        """After a batch verified (and is cached), its signature over a changed digest list is refused."""
        signed, attestation = self._batch(world)
        assert world.connector.handle(world.seal(signed[0], attestation)).accepted
        world.venue.received.clear()
        outsider = world.sign(world.intent(), "desk-equities")
        entries = (AttestedOrder(outsider.digest, True, ReasonCode.ALLOWED, ("p",)),)
        its_attestation = attest(
            entries, world.key_id("controls"), world.ed25519("controls"), world.clock.now_ns
        )
        swapped = signed[0].batch[:-32] + outsider.digest  # the last order's digest replaced
        smuggled = replace(outsider, signature=signed[0].signature, batch=swapped)
        result = world.connector.handle(world.seal(smuggled, its_attestation))
        assert_refused(world, result, ReasonCode.SIGNATURE_INVALID)

    def test_a_cached_batch_signature_does_not_outlive_a_revocation(self, world: World) -> None:
        """After the desk key is revoked, the rest of an already verified batch is refused."""
        signed, attestation = self._batch(world)
        assert world.connector.handle(world.seal(signed[0], attestation)).accepted
        world.venue.received.clear()
        record = world.records["desk-equities"]
        world.directory.add(
            replace(record, revoked_ns=world.clock.now_ns, revocation_reason="desk host lost")
        )
        assert_refused(
            world, world.connector.handle(world.seal(signed[1], attestation)), ReasonCode.KEY_REVOKED
        )


@pytest.fixture(scope="module", params=["hpke", "session"])
def probe(firm: FirmConfig, request: pytest.FixtureRequest) -> tuple[World, bytes]:
    """One world and one valid large, approved envelope (v1 or v2), shared by the property's examples."""
    world = World(with_quorum(firm, 2), sessions=request.param == "session")
    envelope = world.envelope(world.large_intent(), approvers=("carol-approval", "olga-approval"))
    assert world.verifier.verify(envelope, world.clock.now_ns).decision.allowed
    return world, envelope


class TestAnySingleByteChange:
    @settings(max_examples=400, deadline=None)
    @given(data=st.data())
    def test_any_single_byte_change_in_an_envelope_is_refused(
        self, probe: tuple[World, bytes], data: st.DataObject
    ) -> None:
        """Changing any one byte of a serialized envelope, to any other value, gets it refused and audited."""
        world, envelope = probe
        position = data.draw(st.integers(0, len(envelope) - 1), label="position")
        value = data.draw(st.integers(0, 255).filter(lambda v: v != envelope[position]), label="value")
        changed = envelope[:position] + bytes([value]) + envelope[position + 1 :]
        before = len(world.audit.entries)
        result = world.connector.handle(changed)
        assert not result.accepted
        assert len(world.audit.entries) == before + 1
        assert world.audit.last.decision == "deny"
        assert world.venue.received == []
