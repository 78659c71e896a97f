"""Drop copies to surveillance and the approval-gated compliance review: nobody else can read an order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, ReasonCode
from orderguard.execution import (
    Approval,
    ComplianceReviewDesk,
    Context,
    DropCopy,
    EnvelopeError,
    OrderIntent,
    ReviewRefusedError,
    ReviewRequest,
    approve,
    open_drop_copy,
)
from tests.execution_support import SECOND, World


class Review:
    """A world with one accepted order, its drop copy, and the review desk beside surveillance."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.intent: OrderIntent = world.intent(symbol="TSLA")
        result = world.connector.handle(world.envelope(self.intent))
        assert result.drop_copy is not None
        self.copy: DropCopy = result.drop_copy
        principals = {p.id: p.to_domain() for p in world.firm.principals}
        keys = {world.key_id("surveillance"): world.x25519("surveillance")}
        self.desk = ComplianceReviewDesk(keys, world.directory, principals, world.audit, world.clock)

    def request(self, requester: str = "carol", **changes: object) -> ReviewRequest:
        now = self.world.clock.now_ns
        key_id = self.world.key_id(f"{requester}-approval")
        window = (now, now + 3600 * SECOND)
        request = ReviewRequest(requester, key_id, self.copy.digest, "CASE-7", "front running?", *window)
        request = replace(request, **changes)  # type: ignore[arg-type]
        return request.signed(self.world.ed25519(f"{requester}-approval"))

    def approval(self, request: ReviewRequest, approver: str = "chris") -> Approval:
        key = f"{approver}-approval"
        key_id, private = self.world.key_id(key), self.world.ed25519(key)
        return approve(request.digest(), approver, key_id, private, Context.REVIEW_APPROVAL)

    def refused(self, request: ReviewRequest, approval: Approval) -> ReasonCode:
        with pytest.raises(ReviewRefusedError) as caught:
            self.desk.open_for_review(self.copy, request, approval)
        entry = self.world.audit.last
        assert (entry.kind, entry.action, entry.decision) == ("order_review", AuditAction.REFUSED, "deny")
        assert entry.reason_code == caught.value.decision.reason.value
        return caught.value.decision.reason


@pytest.fixture
def review(firm: FirmConfig) -> Review:
    return Review(World(firm))


class TestDropCopy:
    def test_surveillance_opens_the_drop_copy_of_an_accepted_order(self, review: Review) -> None:
        """The surveillance key opens the copy: the order, the originator's signature and the outcome."""
        contents = open_drop_copy(review.copy, review.world.x25519("surveillance"))
        assert contents.intent == review.intent
        assert contents.outcome is ReasonCode.ALLOWED
        assert contents.connector_id == "service:connector-1"

    def test_refused_orders_get_a_drop_copy_with_the_reason(self, review: Review) -> None:
        """Surveillance also learns about refused attempts it can attribute."""
        world = review.world
        result = world.connector.handle(world.envelope(world.intent(venue="DARK-X")))
        assert result.drop_copy is not None
        contents = open_drop_copy(result.drop_copy, world.x25519("surveillance"))
        assert contents.outcome is ReasonCode.VENUE_NOT_APPROVED

    @pytest.mark.parametrize("key", ["connector", "other-connector"])
    def test_no_other_key_opens_a_drop_copy(self, review: Review, key: str) -> None:
        """The connector that made the copy cannot read it back, nor can anyone else's key."""
        with pytest.raises(EnvelopeError):
            open_drop_copy(review.copy, review.world.x25519(key))

    def test_a_relabelled_or_altered_drop_copy_does_not_open(self, review: Review) -> None:
        """The header is bound: a changed digest breaks the seal."""
        altered = replace(review.copy, digest=bytes(32))
        with pytest.raises(EnvelopeError):
            open_drop_copy(altered, review.world.x25519("surveillance"))
        assert DropCopy.from_bytes(review.copy.to_bytes()) == review.copy


class TestComplianceReview:
    def test_an_approved_review_opens_the_order_and_is_audited_first(self, review: Review) -> None:
        """Carol asks, Chris approves: the order comes back and the audit log records the viewing."""
        request = review.request()
        contents = review.desk.open_for_review(review.copy, request, review.approval(request))
        assert contents.intent.symbol == "TSLA"
        entry = review.world.audit.last
        assert (entry.action, entry.actor, entry.decision) == (AuditAction.VIEWED, "carol", "allow")
        assert entry.object_id == review.copy.digest.hex()
        assert entry.after is not None
        assert entry.after["approver"] == "chris"

    def test_self_approval_is_refused(self, review: Review) -> None:
        """Carol cannot approve her own review."""
        request = review.request()
        assert review.refused(request, review.approval(request, "carol")) is ReasonCode.SOD_SELF_APPROVAL

    def test_a_non_compliance_approver_is_refused(self, review: Review) -> None:
        """Olga approves orders, not reviews."""
        request = review.request()
        assert review.refused(request, review.approval(request, "olga")) is ReasonCode.APPROVAL_NOT_ELIGIBLE

    def test_a_non_compliance_requester_is_refused(self, review: Review) -> None:
        """Olga cannot ask to read an order even with Chris's approval."""
        request = review.request("olga")
        assert review.refused(request, review.approval(request)) is ReasonCode.NOT_AUTHORIZED

    def test_an_approval_of_another_request_is_refused(self, review: Review) -> None:
        """Chris's approval of another case does not open this one."""
        request, other = review.request(), review.request(case_id="CASE-8")
        assert review.refused(request, review.approval(other)) is ReasonCode.APPROVAL_STALE

    def test_an_expired_request_is_refused(self, review: Review) -> None:
        """A review request is valid only within its window."""
        request = review.request()
        approval = review.approval(request)
        review.world.clock.advance(3601)
        assert review.refused(request, approval) is ReasonCode.APPROVAL_EXPIRED

    def test_a_request_for_another_order_is_refused(self, review: Review) -> None:
        """The request names one order digest; it does not open any other copy."""
        request = review.request(order_digest=bytes(32))
        assert review.refused(request, review.approval(request)) is ReasonCode.NOT_AUTHORIZED

    def test_an_unsigned_request_is_refused(self, review: Review) -> None:
        """Someone impersonating Carol without her key gets nothing."""
        request = replace(review.request(), signature=bytes(64))
        assert review.refused(request, review.approval(request)) is ReasonCode.SIGNATURE_INVALID

    def test_an_order_approval_signature_cannot_stand_in_for_a_review_approval(self, review: Review) -> None:
        """Domain separation: Chris's signature over the same digest in the order context does not count."""
        request = review.request()
        key = review.world.ed25519("chris-approval")
        wrong_context = approve(request.digest(), "chris", review.world.key_id("chris-approval"), key)
        assert review.refused(request, wrong_context) is ReasonCode.SIGNATURE_INVALID
