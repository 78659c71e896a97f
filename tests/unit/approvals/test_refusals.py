"""The approval rule checks write nothing; the engine alone marks an expired request."""

from __future__ import annotations

import pytest

from orderguard.approvals import refusals
from orderguard.approvals.model import ApprovalRequest, RequestStatus, SensitiveAction, Verdict, Vote
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from orderguard.gateway.stack import ControlsStack
from tests.controls_support import SECOND, T0, make_stack

CONTENT = {"account": "C-PENSION-1", "symbol": "AAPL", "qty": 10_000, "price": 200.0}


@pytest.fixture
def stack(firm: FirmConfig) -> ControlsStack:
    s, _, _ = make_stack(firm)
    return s


def open_large(stack: ControlsStack) -> ApprovalRequest:
    _, request = stack.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", CONTENT, T0)
    assert request is not None
    return request


def status(stack: ControlsStack, request: ApprovalRequest) -> RequestStatus:
    stored = stack.approvals.store.get(request.id)
    assert stored is not None
    return stored.status


class TestRefusalsWriteNothing:
    def test_the_rule_checks_see_expiry_without_marking_it(self, stack: ControlsStack) -> None:
        """Past its TTL a request is refused as expired by every check, yet stays pending in the store."""
        request = open_large(stack)
        late = request.expires_ns
        vote = Vote(request.id, "carol", request.digest, Verdict.APPROVE, late)
        assert refusals.closed_refusal(request, request.id, late) is not None
        refused = refusals.vote_refusal(stack.approvals.directory, vote, request, request.id, late)
        assert refused is not None
        assert refused.reason is ReasonCode.APPROVAL_EXPIRED
        ready = stack.approvals.readiness(request, SensitiveAction.LARGE_ORDER, "O-1", request.digest, late)
        assert ready.reason is ReasonCode.APPROVAL_EXPIRED
        assert status(stack, request) is RequestStatus.PENDING
        assert refusals.closed_refusal(request, request.id, late - SECOND) is None

    def test_a_vote_refused_before_the_expiry_check_leaves_the_request_pending(
        self, stack: ControlsStack
    ) -> None:
        """A late self-approval is refused for separation of duties and does not mark the request."""
        request = open_large(stack)
        late = request.expires_ns
        refused = stack.approvals.approve(request.id, "alice", request.digest, late)
        assert refused.reason is ReasonCode.SOD_SELF_APPROVAL
        assert status(stack, request) is RequestStatus.PENDING
        expired = stack.approvals.approve(request.id, "carol", request.digest, late)
        assert expired.reason is ReasonCode.APPROVAL_EXPIRED
        assert status(stack, request) is RequestStatus.EXPIRED
