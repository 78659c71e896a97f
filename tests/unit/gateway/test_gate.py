"""The order gate: one decision per order, audited before go, effects only on go."""

from __future__ import annotations

import pytest

from orderguard.approvals.model import RequestStatus, SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, AuditEntry, ReasonCode, Role
from orderguard.gateway.stack import build_controls
from orderguard.gateway.venue_journal import VenueChange
from orderguard.gateway.venues import VenueAllowlist
from tests.controls_support import SECOND, T0, Collected, MemoryAuditSink, make_stack, order


class TestPipeline:
    @pytest.mark.parametrize(
        ("ticket", "reason"),
        [
            (order(), ReasonCode.ALLOWED),
            (order(actor="tom"), ReasonCode.NOT_AUTHORIZED),
            (order(actor="dana"), ReasonCode.NOT_AUTHORIZED),
            (order(actor="mallory"), ReasonCode.NOT_AUTHORIZED),
            (order(account="C-NOPE"), ReasonCode.NOT_AUTHORIZED),
            (order(venue="DARK-X"), ReasonCode.VENUE_NOT_APPROVED),
            (order(venue="NOWHERE"), ReasonCode.VENUE_NOT_APPROVED),
            (order(qty=10_000), ReasonCode.APPROVAL_REQUIRED),
            (order(ts=T0 + 12 * 3600 * SECOND), ReasonCode.NOT_AUTHORIZED),
            (order(account="PA-alice"), ReasonCode.PRECLEARANCE_REQUIRED),
            (order(account="PA-bob"), ReasonCode.NOT_AUTHORIZED),
        ],
        ids=lambda v: v.value if isinstance(v, ReasonCode) else None,
    )
    def test_reason_codes(self, firm: FirmConfig, ticket: object, reason: ReasonCode) -> None:
        """Each kind of order gets its stable reason code, and the decision is audited with it."""
        s, audit, _ = make_stack(firm)
        result = s.gate.submit(ticket)  # type: ignore[arg-type]
        assert result.decision.reason is reason
        entry = audit.entries[result.audit_index]
        assert entry.kind == "order"
        assert entry.reason_code == reason.value
        assert entry.action is (AuditAction.CREATED if result.go else AuditAction.REFUSED)

    def test_a_venue_block_raises_an_alert(self, firm: FirmConfig) -> None:
        """An unapproved venue is blocked and alerted (unusual_route: block_and_alert)."""
        s, audit, sinks = make_stack(firm)
        result = s.gate.submit(order(venue="DARK-X"))
        assert [a.rule for a in result.alerts] == ["unusual_route"] == [a.rule for a in sinks.alerts]
        assert sinks.alerts[0].action == "block_and_alert"
        assert audit.last().action is AuditAction.ALERTED

    def test_policy_ids_are_recorded(self, firm: FirmConfig) -> None:
        """The audit entry names the policies that decided."""
        s, audit, _ = make_stack(firm)
        s.gate.submit(order())
        assert audit.last().policy_ids == ("trader-own-desk-orders",)

    def test_conflicting_roles_block_orders(self, firm: FirmConfig) -> None:
        """A principal whose roles conflict (data that bypassed the loader) cannot trade."""
        principals = tuple(
            p.model_copy(update={"roles": (Role.TRADER, Role.KEY_CUSTODIAN)}) if p.id == "alice" else p
            for p in firm.principals
        )
        s, audit, _ = make_stack(firm.model_copy(update={"principals": principals}))
        result = s.gate.submit(order())
        assert result.decision.reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert audit.entries[result.audit_index].policy_ids == ("keys-submit-orders",)


class TestLargeOrders:
    def test_a_large_order_runs_once_after_its_quorum(self, firm: FirmConfig) -> None:
        """Approval, then go; the same approval cannot carry the order a second time."""
        s, _audit, _ = make_stack(firm)
        big = order("O-BIG", qty=10_000)
        _, request = s.approvals.open(
            SensitiveAction.LARGE_ORDER, big.order_id, "alice", big.approval_content(), T0
        )
        assert request is not None
        s.approvals.approve(request.id, "carol", request.digest, T0)
        first = s.gate.submit(big)
        assert first.go
        assert "carol" in first.decision.message
        assert s.approvals.store.get(request.id).status is RequestStatus.EXECUTED  # type: ignore[union-attr]
        assert s.gate.submit(big).decision.reason is ReasonCode.APPROVAL_REPLAYED

    def test_the_audit_append_happens_before_go(self, firm: FirmConfig) -> None:
        """If the audit log cannot record the decision, nothing is spent and no go is returned."""

        class Broken(MemoryAuditSink):
            def append(self, entry: AuditEntry) -> int:
                if entry.kind == "order":
                    raise OSError("audit unavailable")
                return super().append(entry)

        sinks = Collected()
        s = build_controls(firm, Broken(), notifications=sinks, events=sinks)
        big = order("O-BIG", qty=10_000)
        _, request = s.approvals.open(
            SensitiveAction.LARGE_ORDER, big.order_id, "alice", big.approval_content(), T0
        )
        assert request is not None
        s.approvals.approve(request.id, "carol", request.digest, T0)
        with pytest.raises(OSError, match="audit unavailable"):
            s.gate.submit(big)
        assert s.approvals.store.get(request.id).status is RequestStatus.PENDING  # type: ignore[union-attr]


class TestVenueChanges:
    def test_changing_the_allowlist_needs_approval(self, firm: FirmConfig) -> None:
        """An admin's proposal to approve DARK-X takes effect only after compliance approves."""
        s, _, _ = make_stack(firm)
        decision, request = s.venues.propose(s.approvals, "adam", "DARK-X", True, T0)
        assert decision.allowed
        assert request is not None
        early = s.venues.apply(s.approvals, request.id, actor="adam", venue="DARK-X", approve=True, now=T0)
        assert early.reason is ReasonCode.APPROVAL_REQUIRED
        assert "DARK-X" not in s.venues
        assert (
            s.approvals.approve(request.id, "adam", request.digest, T0).reason is ReasonCode.SOD_SELF_APPROVAL
        )
        assert s.approvals.approve(request.id, "carol", request.digest, T0).allowed
        assert s.venues.apply(
            s.approvals, request.id, actor="adam", venue="DARK-X", approve=True, now=T0
        ).allowed
        assert "DARK-X" in s.venues
        assert s.gate.submit(order(venue="DARK-X")).go

    def test_an_approved_change_cannot_be_bent(self, firm: FirmConfig) -> None:
        """Approval to add one venue does not add another (stale/replayed content)."""
        s, _, _ = make_stack(firm)
        _, request = s.venues.propose(s.approvals, "adam", "DARK-X", True, T0)
        assert request is not None
        s.approvals.approve(request.id, "carol", request.digest, T0)
        other = s.venues.apply(s.approvals, request.id, actor="adam", venue="DARK-Y", approve=True, now=T0)
        assert other.reason is ReasonCode.APPROVAL_REPLAYED
        assert "DARK-Y" not in s.venues

    def test_applied_changes_are_journalled_and_replayed(self, firm: FirmConfig) -> None:
        """Only an applied change is journalled; a new allowlist over the journal has it."""
        s, _, _ = make_stack(firm)
        _, request = s.venues.propose(s.approvals, "adam", "XNAS", False, T0)
        assert request is not None
        s.venues.apply(s.approvals, request.id, actor="adam", venue="XNAS", approve=False, now=T0)
        assert s.venues.journal.changes() == []  # not approved yet: refused, nothing journalled
        s.approvals.approve(request.id, "carol", request.digest, T0)
        s.venues.apply(s.approvals, request.id, actor="adam", venue="XNAS", approve=False, now=T0 + 1)
        assert s.venues.journal.changes() == [VenueChange("XNAS", False, "adam", T0 + 1, request.id)]
        again = VenueAllowlist(firm.approved_venues(), journal=s.venues.journal)
        assert "XNAS" not in again
        assert "XNYS" in again

    def test_only_admin_compliance_security_propose(self, firm: FirmConfig) -> None:
        """A trader cannot propose route changes."""
        s, audit, _ = make_stack(firm)
        decision, _ = s.venues.propose(s.approvals, "alice", "DARK-X", True, T0)
        assert decision.reason is ReasonCode.NOT_AUTHORIZED
        assert audit.last().kind == "venue"


class TestCreatorAndApprover:
    def test_the_order_entry_names_creator_and_approvers_before_execution(self, firm: FirmConfig) -> None:
        """A large order's audit entry records who entered it, its request and who approved it."""
        s, audit, _ = make_stack(firm)
        big = order("O-BIG", qty=10_000)
        _, request = s.approvals.open(
            SensitiveAction.LARGE_ORDER, big.order_id, "alice", big.approval_content(), T0
        )
        assert request is not None
        s.approvals.approve(request.id, "carol", request.digest, T0)
        result = s.gate.submit(big)
        assert result.go
        after = audit.entries[result.audit_index].after
        assert after is not None
        assert after["actor"] == "alice"
        assert after["approval"] == {
            "request_id": request.id,
            "initiator": "alice",
            "approvers": ["carol"],
            "quorum": 1,
            "break_glass_by": None,
        }
        assert s.approvals.store.get(request.id).status is RequestStatus.EXECUTED  # type: ignore[union-attr]
