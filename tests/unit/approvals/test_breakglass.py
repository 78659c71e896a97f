"""Break-glass: mandatory reason, short TTL, immediate notifications, second-person review."""

from __future__ import annotations

from orderguard.approvals.model import SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, ReasonCode
from tests.controls_support import SECOND, T0, make_stack

CONTENT = {"qty": 10_000}


class TestBreakGlass:
    def test_a_reason_is_mandatory(self, firm: FirmConfig) -> None:
        """An empty or token reason is refused with BREAK_GLASS_NO_REASON and audited."""
        s, audit, sinks = make_stack(firm)
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
        assert request is not None
        for reason in ("", "   ", "urgent"):
            decision = s.break_glass.invoke(request.id, "alice", reason, T0)
            assert decision.reason is ReasonCode.BREAK_GLASS_NO_REASON
            assert audit.last().reason_code == "BREAK_GLASS_NO_REASON"
        assert sinks.notifications == []
        assert sinks.alerts == []

    def test_break_glass_notifies_security_and_skipped_approvers(self, firm: FirmConfig) -> None:
        """Security and every eligible approver who has not approved are notified at once."""
        s, audit, sinks = make_stack(firm)
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
        assert request is not None
        decision = s.break_glass.invoke(request.id, "alice", "exchange outage: hedge must go now", T0)
        assert decision.allowed
        assert audit.last().action is AuditAction.BREAK_GLASS
        assert sorted(n.recipient for n in sinks.notifications) == ["carol", "chris", "olga", "sofia"]
        assert all(n.request_id == request.id for n in sinks.notifications)
        assert [(a.rule, a.actor, a.event_ids) for a in sinks.alerts] == [
            ("break_glass", "alice", (request.id,))
        ]

    def test_the_grant_is_short_lived(self, firm: FirmConfig) -> None:
        """The bypass lets the request execute within the TTL and not after it."""
        s, _, _ = make_stack(firm)
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
        assert request is not None
        s.break_glass.invoke(request.id, "alice", "exchange outage: hedge must go now", T0)
        stored = s.approvals.store.get(request.id)
        ttl = int(firm.controls.break_glass_ttl_seconds) * SECOND
        ready = s.approvals.readiness(
            stored, SensitiveAction.LARGE_ORDER, "O-1", request.digest, T0 + ttl - 1
        )
        late = s.approvals.readiness(stored, SensitiveAction.LARGE_ORDER, "O-1", request.digest, T0 + ttl)
        assert ready.allowed
        assert late.reason is ReasonCode.APPROVAL_REQUIRED

    def test_only_the_initiator_breaks_glass(self, firm: FirmConfig) -> None:
        """Someone else cannot break glass on a request."""
        s, _, _ = make_stack(firm)
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
        assert request is not None
        decision = s.break_glass.invoke(request.id, "bob", "exchange outage: hedge must go now", T0)
        assert decision.reason is ReasonCode.NOT_AUTHORIZED


class TestReview:
    def test_the_review_stays_open_until_a_second_person_closes_it(self, firm: FirmConfig) -> None:
        """The invoker cannot close the review; security can, with a note."""
        s, audit, _ = make_stack(firm)
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
        assert request is not None
        s.break_glass.invoke(request.id, "alice", "exchange outage: hedge must go now", T0)
        assert [g.request_id for g in s.break_glass.open_reviews()] == [request.id]
        own = s.break_glass.close_review(request.id, "alice", "fine", T0)
        assert own.reason is ReasonCode.SOD_SELF_APPROVAL
        trader = s.break_glass.close_review(request.id, "bob", "fine", T0)
        assert trader.reason is ReasonCode.APPROVAL_NOT_ELIGIBLE
        assert s.break_glass.close_review(request.id, "sofia", "", T0).reason is ReasonCode.NOT_AUTHORIZED
        assert s.break_glass.open_reviews() != []
        assert s.break_glass.close_review(request.id, "sofia", "outage confirmed by venue", T0).allowed
        assert s.break_glass.open_reviews() == []
        assert audit.last().action is AuditAction.CASE_UPDATED
