"""Stateful property test: no sequence of operations lets one principal both initiate and approve
a request, or lets a large order through the gate without its quorum of current approvals."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from orderguard.approvals.model import (
    ApprovalRequest,
    RequestStatus,
    SensitiveAction,
    Verdict,
    canonical_digest,
)
from orderguard.config import load_config
from orderguard.domain import Role
from orderguard.gateway.orders import OrderTicket
from tests.conftest import EXAMPLE_FIRM
from tests.controls_support import SECOND, T0, make_stack, order

FIRM = load_config(EXAMPLE_FIRM)
PEOPLE = ["alice", "bob", "carol", "chris", "olga", "sam", "tom"]
# Approvers are drawn more often so that quorums (and therefore executions) actually happen.
VOTERS = [*PEOPLE, "carol", "olga", "chris", "carol", "olga"]
MOSTLY_FALSE = st.sampled_from([False, False, False, True])
TRADERS = ["alice", "bob"]


@dataclass
class Tracked:
    request_id: str
    ticket: OrderTicket


class ApprovalMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    @initialize()
    def setup(self) -> None:
        self.stack, self.audit, _ = make_stack(FIRM)
        self.now = T0
        self.counter = 0
        self.executed: list[str] = []

    def _stored(self, tracked: Tracked) -> ApprovalRequest:
        stored = self.stack.approvals.store.get(tracked.request_id)
        assert stored is not None
        return stored

    @rule(
        target=requests,
        initiator=st.sampled_from(PEOPLE),
        trader=st.sampled_from(TRADERS),
        qty=st.integers(5_001, 20_000),
    )
    def open_request(self, initiator: str, trader: str, qty: int) -> Tracked:
        self.counter += 1
        ticket = order(f"O-{self.counter}", actor=trader, qty=qty, ts=self.now)
        decision, request = self.stack.approvals.open(
            SensitiveAction.LARGE_ORDER, ticket.order_id, initiator, ticket.approval_content(), self.now
        )
        assert decision.allowed
        assert request is not None
        return Tracked(request.id, ticket)

    @rule(tracked=requests, approver=st.sampled_from(VOTERS), stale=MOSTLY_FALSE)
    def approve(self, tracked: Tracked, approver: str, stale: bool) -> None:
        digest = "0" * 64 if stale else self._stored(tracked).digest
        self.stack.approvals.approve(tracked.request_id, approver, digest, self.now)

    @rule(tracked=requests, approver=st.sampled_from([*PEOPLE, "sam", "tom", "bob"]))
    def reject(self, tracked: Tracked, approver: str) -> None:
        self.stack.approvals.reject(tracked.request_id, approver, self._stored(tracked).digest, self.now)

    @rule(tracked=requests, extra=st.integers(1, 1_000), by_initiator=MOSTLY_FALSE)
    def modify(self, tracked: Tracked, extra: int, by_initiator: bool) -> None:
        stored = self._stored(tracked)
        actor = stored.initiator if by_initiator else "sam"
        changed = order(tracked.ticket.order_id, actor=tracked.ticket.actor, qty=tracked.ticket.qty + extra)
        if self.stack.approvals.modify(
            tracked.request_id, actor, changed.approval_content(), self.now
        ).allowed:
            tracked.ticket = changed

    @rule(tracked=requests, tamper=MOSTLY_FALSE)
    def submit(self, tracked: Tracked, tamper: bool) -> None:
        ticket = tracked.ticket
        if tamper:
            ticket = order(ticket.order_id, actor=ticket.actor, qty=ticket.qty * 2)
        ticket = order(ticket.order_id, actor=ticket.actor, qty=ticket.qty, ts=self.now)
        before = self._stored(tracked)
        digest = canonical_digest(SensitiveAction.LARGE_ORDER, ticket.order_id, ticket.approval_content())
        result = self.stack.gate.submit(ticket)
        if result.go:
            eligible = {
                v.approver
                for v in before.votes
                if v.verdict is Verdict.APPROVE
                and v.digest == digest == before.digest
                and v.approver not in (before.initiator, ticket.actor)
                and Role.ORDER_APPROVER in self.stack.directory.get(v.approver).roles  # type: ignore[union-attr]
            }
            assert len(eligible) >= before.quorum, f"large order {ticket.order_id} went without quorum"
            assert before.status is RequestStatus.PENDING
            assert self.now < before.expires_ns
            self.executed.append(ticket.order_id)

    @rule(tracked=requests, approver=st.sampled_from(VOTERS))
    def approve_then_submit(self, tracked: Tracked, approver: str) -> None:
        self.approve(tracked, approver, stale=False)
        self.submit(tracked, tamper=False)

    @rule(seconds=st.integers(1, 1_200))
    def wait(self, seconds: int) -> None:
        self.now += seconds * SECOND

    @invariant()
    def nobody_approves_what_they_initiated(self) -> None:
        for request in self.stack.approvals.store.requests():
            approvers = {v.approver for v in request.votes if v.verdict is Verdict.APPROVE}
            assert not approvers & request.interested(), f"{request.id} approved by its initiator"

    @invariant()
    def each_order_executes_at_most_once(self) -> None:
        assert len(self.executed) == len(set(self.executed))


ApprovalMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestApprovalMachine = ApprovalMachine.TestCase
