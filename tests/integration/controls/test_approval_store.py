"""Approval requests in SQLite and PostgreSQL: round trip, restart, and the real durable audit log."""

from __future__ import annotations

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import RequestStatus, SensitiveAction
from orderguard.approvals.rules import default_rules
from orderguard.approvals.sql_store import SqlApprovalStore
from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.audit.store import AuditStore
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from orderguard.gateway.stack import build_controls
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.controls_support import SECOND, T0, Collected, MemoryAuditSink, order


def engine_on(url: str, firm: FirmConfig) -> ApprovalEngine:
    directory = RoleDirectory([p.to_domain() for p in firm.principals], conflict_sets())
    store = SqlApprovalStore(make_engine(url))
    return ApprovalEngine(store, MemoryAuditSink(), directory, default_rules(firm.controls))


class TestSqlApprovalStore:
    def test_a_pending_approval_survives_a_restart(self, db_url: str, firm: FirmConfig) -> None:
        """Open and approve on one engine; a new engine on the same database sees quorum and refuses reuse."""
        upgrade(db_url)
        first = engine_on(db_url, firm)
        content = {"amount": 2_500_000, "to": "IBAN-1"}
        _, request = first.open(SensitiveAction.WITHDRAWAL, "W-1", "walt", content, T0)
        assert request is not None
        first.approve(request.id, "walt", request.digest, T0)  # refused, but recorded nowhere in the store
        first.approve(request.id, "olga", request.digest, T0 + SECOND)
        second = engine_on(db_url, firm)
        stored = second.store.get(request.id)
        assert stored is not None
        assert stored.current_approvers() == frozenset({"olga"})
        assert stored.content == content
        assert stored.digest == request.digest
        assert second.store.by_object(SensitiveAction.WITHDRAWAL, "W-1") == stored
        assert (
            second.approve(request.id, "olga", request.digest, T0).reason
            is ReasonCode.APPROVAL_DUPLICATE_APPROVER
        )
        assert second.execute(
            request.id, SensitiveAction.WITHDRAWAL, "W-1", content, actor="walt", now=T0
        ).allowed
        third = engine_on(db_url, firm)
        assert third.store.get(request.id).status is RequestStatus.EXECUTED  # type: ignore[union-attr]
        assert third.store.requests(RequestStatus.PENDING) == []

    def test_break_glass_and_stale_votes_round_trip(self, db_url: str, firm: FirmConfig) -> None:
        """Votes (including stale ones) and the break-glass grant with its review come back intact."""
        upgrade(db_url)
        sinks = Collected()
        s = build_controls(
            firm,
            MemoryAuditSink(),
            notifications=sinks,
            events=sinks,
            store=SqlApprovalStore(make_engine(db_url)),
        )
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, "O-1", "alice", {"qty": 1}, T0)
        assert request is not None
        s.approvals.approve(request.id, "carol", request.digest, T0)
        s.approvals.modify(request.id, "alice", {"qty": 2}, T0)
        s.break_glass.invoke(request.id, "alice", "venue outage, must hedge now", T0)
        s.break_glass.close_review(request.id, "sofia", "checked with the venue", T0)
        again = SqlApprovalStore(make_engine(db_url)).get(request.id)
        assert again == s.approvals.store.get(request.id)
        assert again is not None
        assert again.break_glass is not None
        assert again.break_glass.review_closed_by == "sofia"
        assert len(again.votes) == 1
        assert again.current_approvers() == frozenset()


class TestWithTheDurableAuditLog:
    def test_controls_write_through_the_real_audit_log(self, sqlite_url: str, firm: FirmConfig) -> None:
        """A large order's request, approval and go are durable log entries, in that order."""
        upgrade(sqlite_url)
        sinks = Collected()
        with AuditLog(sqlite_url) as log:
            s = build_controls(firm, log, notifications=sinks, events=sinks)
            big = order("O-BIG", qty=10_000)
            _, request = s.approvals.open(
                SensitiveAction.LARGE_ORDER, big.order_id, "alice", big.approval_content(), T0
            )
            assert request is not None
            s.approvals.approve(request.id, "carol", request.digest, T0)
            refused = s.gate.submit(order("O-X", venue="DARK-X"))
            result = s.gate.submit(big)
            assert result.go
            assert not refused.go
            assert result.audit_index > refused.audit_index
        engine = make_engine(sqlite_url)
        headers = [decode_leaf(entry[2]).header for entry in AuditStore(engine).iter_entries()]
        engine.dispose()
        assert [(h["kind"], h["action"], h["reason_code"]) for h in headers] == [
            ("approval", "requested", "ALLOWED"),
            ("approval", "approved", "ALLOWED"),
            ("order", "refused", "VENUE_NOT_APPROVED"),
            ("alert", "alerted", "VENUE_NOT_APPROVED"),
            ("order", "created", "ALLOWED"),
        ]
