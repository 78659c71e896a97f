"""The approval engine: quorum, eligibility, digest binding, expiry, rejection, single use."""

from __future__ import annotations

import pytest

from orderguard.approvals.model import (
    ApprovalRequest,
    RequestStatus,
    SensitiveAction,
    Verdict,
    Vote,
    canonical_digest,
)
from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, AuditEntry, ReasonCode
from orderguard.gateway.stack import ControlsStack
from tests.controls_support import SECOND, T0, MemoryAuditSink, make_stack

CONTENT = {"account": "C-PENSION-1", "symbol": "AAPL", "qty": 10_000, "price": 200.0}


@pytest.fixture
def stack(firm: FirmConfig) -> tuple[ControlsStack, MemoryAuditSink]:
    s, audit, _ = make_stack(firm)
    return s, audit


def open_large(stack: ControlsStack, initiator: str = "alice", object_id: str = "O-1") -> ApprovalRequest:
    decision, request = stack.approvals.open(SensitiveAction.LARGE_ORDER, object_id, initiator, CONTENT, T0)
    assert decision.allowed
    assert request is not None
    return request


class TestDigest:
    def test_digest_is_canonical(self) -> None:
        """Key order does not change the digest; any value change does."""
        a = canonical_digest(SensitiveAction.LARGE_ORDER, "O-1", {"qty": 1, "price": 2.0})
        b = canonical_digest(SensitiveAction.LARGE_ORDER, "O-1", {"price": 2.0, "qty": 1})
        c = canonical_digest(SensitiveAction.LARGE_ORDER, "O-1", {"price": 2.0, "qty": 2})
        d = canonical_digest(SensitiveAction.WITHDRAWAL, "O-1", {"price": 2.0, "qty": 1})
        assert a == b
        assert len({a, c, d}) == 3


class TestQuorum:
    def test_an_eligible_second_person_meets_the_quorum(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """One order approver other than the initiator makes a large order executable."""
        s, audit = stack
        request = open_large(s)
        assert s.approvals.approve(request.id, "carol", request.digest, T0 + SECOND).allowed
        stored = s.approvals.store.get(request.id)
        assert stored is not None
        assert stored.quorum_met
        ready = s.approvals.readiness(
            stored, SensitiveAction.LARGE_ORDER, "O-1", request.digest, T0 + 2 * SECOND
        )
        assert ready.allowed
        assert [e.action for e in audit.entries] == [AuditAction.REQUESTED, AuditAction.APPROVED]

    def test_quorum_of_two_needs_two_distinct_people(self, firm: FirmConfig) -> None:
        """With a quorum of 2, one approver is not enough and the same one twice does not help."""
        two = firm.model_copy(update={"controls": firm.controls.model_copy(update={"large_order_quorum": 2})})
        s, _, _ = make_stack(two)
        request = open_large(s)
        assert s.approvals.approve(request.id, "carol", request.digest, T0).allowed
        again = s.approvals.approve(request.id, "carol", request.digest, T0)
        assert again.reason is ReasonCode.APPROVAL_DUPLICATE_APPROVER
        assert not s.approvals.store.get(request.id).quorum_met  # type: ignore[union-attr]
        assert s.approvals.approve(request.id, "olga", request.digest, T0).allowed
        assert s.approvals.store.get(request.id).quorum_met  # type: ignore[union-attr]

    def test_without_approvals_execution_needs_approval(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """A pending request with no approvals is not ready: APPROVAL_REQUIRED."""
        s, _ = stack
        request = open_large(s)
        ready = s.approvals.readiness(request, SensitiveAction.LARGE_ORDER, "O-1", request.digest, T0)
        assert ready.reason is ReasonCode.APPROVAL_REQUIRED


class TestRefusals:
    def test_the_initiator_cannot_approve(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """Self-approval is refused and audited, and counts for nothing."""
        s, audit = stack
        request = open_large(s, initiator="olga")
        decision = s.approvals.approve(request.id, "olga", request.digest, T0)
        assert decision.reason is ReasonCode.SOD_SELF_APPROVAL
        assert audit.last().action is AuditAction.REFUSED
        assert audit.last().reason_code == "SOD_SELF_APPROVAL"
        assert s.approvals.store.get(request.id).current_approvers() == frozenset()  # type: ignore[union-attr]

    def test_an_approver_without_the_role_is_not_eligible(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """A trader colleague cannot approve a large order."""
        s, _ = stack
        request = open_large(s)
        assert (
            s.approvals.approve(request.id, "bob", request.digest, T0).reason
            is ReasonCode.APPROVAL_NOT_ELIGIBLE
        )

    def test_a_suspended_approver_is_not_eligible(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """Suspension removes approval rights at once."""
        s, _ = stack
        request = open_large(s)
        s.directory.suspend("carol")
        assert (
            s.approvals.approve(request.id, "carol", request.digest, T0).reason
            is ReasonCode.APPROVAL_NOT_ELIGIBLE
        )

    def test_modification_makes_approvals_stale(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """After the content changes, earlier approvals no longer count and old-digest votes are refused."""
        s, _ = stack
        request = open_large(s)
        s.approvals.approve(request.id, "carol", request.digest, T0)
        assert s.approvals.modify(request.id, "alice", {**CONTENT, "qty": 20_000}, T0 + SECOND).allowed
        changed = s.approvals.store.get(request.id)
        assert changed is not None
        assert not changed.quorum_met
        assert (
            s.approvals.approve(request.id, "olga", request.digest, T0 + 2 * SECOND).reason
            is ReasonCode.APPROVAL_STALE
        )
        assert s.approvals.approve(request.id, "carol", changed.digest, T0 + 3 * SECOND).allowed

    def test_only_the_initiator_may_modify(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """Someone else changing the request content is refused."""
        s, _ = stack
        request = open_large(s)
        assert s.approvals.modify(request.id, "bob", CONTENT, T0).reason is ReasonCode.NOT_AUTHORIZED

    def test_a_vote_cannot_be_replayed_on_another_request(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """A vote issued for request A is refused on request B."""
        s, _ = stack
        first, second = open_large(s, object_id="O-1"), open_large(s, object_id="O-2")
        vote = Vote(first.id, "carol", first.digest, Verdict.APPROVE, T0)
        assert s.approvals.vote(vote, first.id, T0).allowed
        assert s.approvals.vote(vote, second.id, T0).reason is ReasonCode.APPROVAL_REPLAYED

    def test_requests_expire(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """An approval after the TTL is refused and the request is marked expired."""
        s, _ = stack
        request = open_large(s)
        late = request.expires_ns
        assert (
            s.approvals.approve(request.id, "carol", request.digest, late).reason
            is ReasonCode.APPROVAL_EXPIRED
        )
        assert s.approvals.store.get(request.id).status is RequestStatus.EXPIRED  # type: ignore[union-attr]

    def test_an_approved_request_expires_before_execution(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """Quorum met but not executed in time: execution is refused as expired."""
        s, _ = stack
        request = open_large(s)
        s.approvals.approve(request.id, "carol", request.digest, T0)
        stored = s.approvals.store.get(request.id)
        ready = s.approvals.readiness(
            stored, SensitiveAction.LARGE_ORDER, "O-1", request.digest, request.expires_ns
        )
        assert ready.reason is ReasonCode.APPROVAL_EXPIRED

    def test_one_rejection_ends_the_request(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """After an eligible rejection, further approvals and execution are refused."""
        s, audit = stack
        request = open_large(s)
        assert (
            s.approvals.reject(request.id, "carol", request.digest, T0, "too big").reason
            is ReasonCode.APPROVAL_REJECTED
        )
        assert audit.last().action is AuditAction.REJECTED
        assert (
            s.approvals.approve(request.id, "olga", request.digest, T0).reason is ReasonCode.APPROVAL_REJECTED
        )

    def test_an_ineligible_rejection_does_not_end_it(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """A rejection by someone without the role is refused and the request stays pending."""
        s, _ = stack
        request = open_large(s)
        assert (
            s.approvals.reject(request.id, "bob", request.digest, T0).reason
            is ReasonCode.APPROVAL_NOT_ELIGIBLE
        )
        assert s.approvals.store.get(request.id).status is RequestStatus.PENDING  # type: ignore[union-attr]

    def test_an_executed_request_is_spent(self, stack: tuple[ControlsStack, MemoryAuditSink]) -> None:
        """execute() works once; the second time the approvals are spent (APPROVAL_REPLAYED)."""
        s, audit = stack
        request = open_large(s)
        s.approvals.approve(request.id, "carol", request.digest, T0)
        args = (request.id, SensitiveAction.LARGE_ORDER, "O-1", CONTENT)
        assert s.approvals.execute(*args, actor="alice", now=T0).allowed
        assert audit.last().action is AuditAction.EXECUTED
        assert s.approvals.execute(*args, actor="alice", now=T0).reason is ReasonCode.APPROVAL_REPLAYED

    def test_readiness_refuses_a_request_for_another_object(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """An approved request presented for a different object is a replay."""
        s, _ = stack
        request = open_large(s)
        s.approvals.approve(request.id, "carol", request.digest, T0)
        stored = s.approvals.store.get(request.id)
        ready = s.approvals.readiness(stored, SensitiveAction.LARGE_ORDER, "O-9", request.digest, T0)
        assert ready.reason is ReasonCode.APPROVAL_REPLAYED

    def test_unknown_and_suspended_initiators_cannot_open(
        self, stack: tuple[ControlsStack, MemoryAuditSink]
    ) -> None:
        """Opening a request needs a known, active initiator."""
        s, _ = stack
        s.directory.suspend("alice")
        for who in ("mallory", "alice"):
            decision, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", who, CONTENT, T0)
            assert request is None
            assert decision.reason is ReasonCode.NOT_AUTHORIZED


class TestAuditOrder:
    def test_every_vote_is_audited_before_the_store_changes(self, firm: FirmConfig) -> None:
        """If the audit append fails, the approval is not recorded."""

        class FailingSink(MemoryAuditSink):
            fail = False

            def append(self, entry: AuditEntry) -> int:
                if self.fail:
                    raise OSError("disk full")
                return super().append(entry)

        from orderguard.gateway.stack import build_controls
        from tests.controls_support import Collected

        sink, sinks = FailingSink(), Collected()
        s = build_controls(firm, sink, notifications=sinks, events=sinks)
        request = open_large(s)
        sink.fail = True
        with pytest.raises(OSError, match="disk full"):
            s.approvals.approve(request.id, "carol", request.digest, T0)
        stored = s.approvals.store.get(request.id)
        assert stored is not None
        assert stored.votes == ()
