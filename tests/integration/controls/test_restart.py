"""A restart keeps the control state: new objects over the same database see what the old ones did.

Each test builds the controls with ``build_controls(..., engine=URL)`` on SQLite and PostgreSQL,
acts, then builds a fresh stack over the same database (the "restart") and checks the state.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from orderguard.approvals.model import SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Role, Side
from orderguard.gateway.stack import ControlsStack, ControlsStateError, build_controls
from orderguard.storage import make_engine
from orderguard.storage.controls_tables import CONTROLS_TABLES
from orderguard.storage.migrate import upgrade
from orderguard.storage.schema import metadata
from tests.controls_support import SECOND, T0, Collected, MemoryAuditSink, order

DAY = 86_400 * SECOND


def boot(url: str, firm: FirmConfig) -> tuple[ControlsStack, MemoryAuditSink, Collected]:
    """A fresh process's controls over the database at ``url``."""
    audit, sinks = MemoryAuditSink(), Collected()
    stack = build_controls(firm, audit, notifications=sinks, events=sinks, alerts=sinks, engine=url)
    return stack, audit, sinks


@pytest.fixture
def url(db_url: str) -> str:
    upgrade(db_url)
    return db_url


class TestPreClearanceAcrossRestart:
    def test_requests_decisions_and_consumption_are_kept(self, url: str, firm: FirmConfig) -> None:
        """A clearance granted before a restart is honoured after it, spent once, and then holds the
        holding period; every request and decision stays in the history."""
        first, _, _ = boot(url, firm)
        granted, clearance = first.preclearance.request(
            "dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=50, now=T0
        )
        denied, _ = first.preclearance.request(
            "dana", "PA-dana", symbol="NBSC", side=Side.BUY, qty=1, now=T0 + 1
        )
        assert granted.allowed
        assert clearance is not None
        assert denied.reason is ReasonCode.RESTRICTED_SYMBOL

        second, _, _ = boot(url, firm)
        history = second.preclearance.history("dana")
        assert [(r.symbol, r.allowed, r.reason_code) for r in history] == [
            ("IBM", True, "ALLOWED"),
            ("NBSC", False, "RESTRICTED_SYMBOL"),
        ]
        assert history[0].expires_ns == clearance.expires_ns
        trade = order("P-1", actor="dana", account="PA-dana", symbol="IBM", qty=50, ts=T0 + SECOND)
        assert second.gate.submit(trade).go

        third, _, _ = boot(url, firm)
        assert third.preclearance.history("dana")[0].spent_ns == T0 + SECOND
        again = third.gate.submit(order("P-2", actor="dana", account="PA-dana", symbol="IBM", qty=50))
        assert again.decision.reason is ReasonCode.PRECLEARANCE_REQUIRED
        sell, _ = third.preclearance.request(
            "dana", "PA-dana", symbol="IBM", side=Side.SELL, qty=50, now=T0 + DAY
        )
        assert sell.reason is ReasonCode.HOLDING_PERIOD

    def test_the_blackout_book_is_kept(self, url: str, firm: FirmConfig) -> None:
        """Working client orders and recorded views still black out after a restart; an order done
        after the restart lifts the blackout one window later."""
        first, _, _ = boot(url, firm)
        assert first.gate.submit(order("C-1", symbol="MSFT")).go
        first.preclearance.order_viewed("tom", "C-1", T0)

        second, _, _ = boot(url, firm)
        for who, account in (("bob", "PA-bob"), ("tom", "PA-tom")):
            decision, _ = second.preclearance.request(
                who, account, symbol="MSFT-OPT", side=Side.BUY, qty=1, now=T0
            )
            assert decision.reason is ReasonCode.PRECLEARANCE_BLACKOUT, who
        second.preclearance.order_done("C-1", T0 + SECOND)

        third, _, _ = boot(url, firm)
        window = int(firm.controls.preclearance_blackout_seconds) * SECOND
        inside, _ = third.preclearance.request(
            "bob", "PA-bob", symbol="MSFT", side=Side.BUY, qty=1, now=T0 + window
        )
        after, _ = third.preclearance.request(
            "bob", "PA-bob", symbol="MSFT", side=Side.BUY, qty=1, now=T0 + SECOND + window + 1
        )
        assert inside.reason is ReasonCode.PRECLEARANCE_BLACKOUT
        assert after.allowed


class TestDirectoryAcrossRestart:
    def test_granted_revoked_and_suspended_roles_are_kept(self, url: str, firm: FirmConfig) -> None:
        """An approved grant, a revocation and a suspension survive; Cedar decides on the new roles."""
        first, _, _ = boot(url, firm)
        _, request = first.grants.propose("chris", "ana", Role.CODE_REVIEWER, T0)
        assert request is not None
        assert first.approvals.approve(request.id, "sofia", request.digest, T0).allowed
        applied = first.grants.apply(request.id, actor="chris", target="ana", role=Role.CODE_REVIEWER, now=T0)
        assert applied.allowed
        first.directory.revoke("bob", Role.TRADER, actor="sofia", ts=T0)
        first.directory.suspend("alice", actor="sofia", ts=T0)

        second, _, _ = boot(url, firm)
        assert Role.CODE_REVIEWER in second.directory.get("ana").roles  # type: ignore[union-attr]
        assert Role.TRADER not in second.directory.get("bob").roles  # type: ignore[union-attr]
        assert second.directory.suspended == {"alice"}
        assert second.gate.submit(order("O-A")).decision.reason is ReasonCode.PRINCIPAL_SUSPENDED
        assert not second.gate.submit(order("O-B", actor="bob", account="C-HEDGE-1")).go
        journal = second.directory.journal.changes()
        assert [(c.principal, c.change.value, c.request_id) for c in journal] == [
            ("ana", "grant", request.id),
            ("bob", "revoke", None),
            ("alice", "suspend", None),
        ]
        second.directory.reinstate("alice", actor="sofia", ts=T0 + SECOND)

        third, _, _ = boot(url, firm)
        assert third.directory.suspended == set()
        assert third.gate.submit(order("O-C")).go

    def test_a_spent_grant_cannot_be_applied_again_after_a_restart(self, url: str, firm: FirmConfig) -> None:
        """The grant's request is executed in the database: replaying it after a restart is refused."""
        first, _, _ = boot(url, firm)
        _, request = first.grants.propose("chris", "ana", Role.CODE_REVIEWER, T0)
        assert request is not None
        first.approvals.approve(request.id, "sofia", request.digest, T0)
        first.grants.apply(request.id, actor="chris", target="ana", role=Role.CODE_REVIEWER, now=T0)
        second, _, _ = boot(url, firm)
        replay = second.grants.apply(request.id, actor="chris", target="ana", role=Role.CODE_REVIEWER, now=T0)
        assert replay.reason is ReasonCode.APPROVAL_REPLAYED


class TestVenuesAndBreakGlassAcrossRestart:
    def test_an_approved_venue_change_is_kept(self, url: str, firm: FirmConfig) -> None:
        """DARK-X added and XNAS removed under approval stay so after a restart."""
        first, _, _ = boot(url, firm)
        for venue, approve in (("DARK-X", True), ("XNAS", False)):
            _, request = first.venues.propose(first.approvals, "adam", venue, approve, T0)
            assert request is not None
            first.approvals.approve(request.id, "sofia", request.digest, T0)
            assert first.venues.apply(
                first.approvals, request.id, actor="adam", venue=venue, approve=approve, now=T0
            ).allowed
        second, _, _ = boot(url, firm)
        assert "DARK-X" in second.venues
        assert "XNAS" not in second.venues
        assert second.gate.submit(order("O-D", venue="DARK-X")).go
        assert second.gate.submit(order("O-N", venue="XNAS")).decision.reason is ReasonCode.VENUE_NOT_APPROVED

    def test_break_glass_and_its_review_are_kept(self, url: str, firm: FirmConfig) -> None:
        """An active break-glass still lets its order run after a restart; the review stays open until a
        second person closes it, and stays closed after the next restart."""
        first, _, sinks = boot(url, firm)
        big = order("O-BIG", qty=10_000)
        _, request = first.approvals.open(
            SensitiveAction.LARGE_ORDER, big.order_id, "alice", big.approval_content(), T0
        )
        assert request is not None
        assert first.break_glass.invoke(
            request.id, "alice", "venue halts in 2 minutes, must hedge", T0
        ).allowed
        assert sinks.notifications

        second, audit, _ = boot(url, firm)
        assert [g.request_id for g in second.break_glass.open_reviews()] == [request.id]
        result = second.gate.submit(big)
        assert result.go
        assert audit.entries[result.audit_index].after["approval"]["break_glass_by"] == "alice"  # type: ignore[index]
        assert second.break_glass.close_review(
            request.id, "sofia", "hedge confirmed with desk head", T0
        ).allowed

        third, _, _ = boot(url, firm)
        assert third.break_glass.open_reviews() == []
        stored = third.approvals.store.get(request.id)
        assert stored is not None
        assert stored.break_glass is not None
        assert stored.break_glass.review_closed_by == "sofia"


class TestSchema:
    def test_an_unmigrated_database_is_refused_with_the_fix(self, sqlite_url: str, firm: FirmConfig) -> None:
        """build_controls on an empty database names the missing tables and the upgrade command."""
        with pytest.raises(ControlsStateError, match="orderguard db upgrade"):
            build_controls(
                firm, MemoryAuditSink(), notifications=Collected(), events=Collected(), engine=sqlite_url
            )

    def test_migrated_controls_tables_match_their_definitions(self, url: str) -> None:
        """Autogenerate finds no difference between the migrated controls tables and controls_tables."""
        engine = make_engine(url)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, metadata) if _names_controls_table(d)]
        engine.dispose()
        assert diffs == []


def _names_controls_table(diff: object) -> bool:
    """Does a compare_metadata entry (a tuple, or a list of tuples for column changes) concern us?"""
    text = repr(diff)
    return any(f"'{name}'" in text for name in CONTROLS_TABLES)
