"""Responses on both backends: suspension at once and approval-gated lifting, legal hold, re-approval."""

from __future__ import annotations

import tomllib

import pytest

from orderguard.approvals.model import RequestStatus, SensitiveAction
from orderguard.audit.erasure import ErasureRefusedError, ErasureRequest, erase
from orderguard.cases.erasure_authority import HoldAndApprovalAuthority, erasure_content, erasure_object
from orderguard.cases.model import AccessDeniedError, BlockedPattern
from orderguard.cases.state import ResponseState
from orderguard.config import FirmConfig, parse_config
from orderguard.domain import Decision, EventKind, ReasonCode, Role, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import build_controls
from tests.cases_support import T0, alert, case_env, case_firm, event, store_events
from tests.conftest import EXAMPLE_FIRM


class _Discard:
    """Notification and event sinks the controls need but these tests do not read."""

    def notify(self, notification: object) -> None:
        del notification

    def emit(self, event: object) -> None:
        del event


def _order(number: int) -> OrderTicket:
    return OrderTicket(
        f"ord-{number}", "alice", "C-PENSION-1", "AAPL", Side.BUY, 100, 190.0, "XNYS", T0 + number
    )


class TestSuspension:
    def test_suspension_takes_effect_on_the_very_next_check(self, db_url: str) -> None:
        """After suspend() returns, the real order controls and the response state refuse alice."""
        firm = case_firm()
        with case_env(db_url, firm=firm) as env:
            controls = build_controls(firm, env.log, notifications=_Discard(), events=_Discard())
            env.stack.responses.listeners = (*env.stack.responses.listeners, controls.directory)
            assert controls.controls.check(_order(1)).decision.allowed
            env.stack.responses.suspend("alice", actor="sofia", reason="incident 42")
            refused = controls.controls.check(_order(2)).decision
            assert refused.reason is ReasonCode.PRINCIPAL_SUSPENDED
            assert env.stack.state.check_access("alice").reason is ReasonCode.PRINCIPAL_SUSPENDED
            assert (
                env.stack.state.check_order("alice", symbol="MSFT").reason is ReasonCode.PRINCIPAL_SUSPENDED
            )

    def test_another_process_sees_the_suspension_after_reload(self, db_url: str) -> None:
        """A second ResponseState on the same database sees the suspension once it reloads."""
        with case_env(db_url) as env:
            other = ResponseState(env.stack.response_store, env.stack.store, env.stack.config)
            env.stack.responses.suspend("alice", actor="sofia", reason="incident 42")
            other.reload()
            assert other.is_suspended("alice")
            assert not other.is_suspended("bob")

    def test_lifting_needs_an_approval_by_someone_else(self, db_url: str) -> None:
        """Without a met approval the lift is refused and audited; with sofia's approval it lifts."""
        with case_env(db_url) as env:
            suspension = env.stack.responses.suspend("alice", actor="carol", reason="incident 42")
            approval_id = env.stack.responses.request_lift(suspension.response_id, actor="carol")
            with pytest.raises(AccessDeniedError) as refused:
                env.stack.responses.lift_suspension(
                    suspension.response_id, actor="carol", approval_id=approval_id
                )
            assert refused.value.decision.reason is ReasonCode.APPROVAL_REQUIRED
            assert env.stack.state.is_suspended("alice")
            assert "alice" in env.directory.suspended
            request = env.approvals.store.get(approval_id)
            assert request is not None
            own_vote = env.approvals.approve(approval_id, "alice", request.digest, env.clock())
            assert not own_vote.allowed
            assert env.approvals.approve(approval_id, "sofia", request.digest, env.clock()).allowed
            env.stack.responses.lift_suspension(
                suspension.response_id, actor="carol", approval_id=approval_id
            )
            assert not env.stack.state.is_suspended("alice")
            assert "alice" not in env.directory.suspended
            again = env.stack.responses.suspend("alice", actor="carol", reason="incident 43")
            with pytest.raises(AccessDeniedError):
                env.stack.responses.lift_suspension(again.response_id, actor="carol", approval_id=approval_id)

    def test_the_subject_cannot_request_their_own_lift(self, db_url: str) -> None:
        """carol, suspended herself, may not open the lift of her own suspension."""
        with case_env(db_url) as env:
            suspension = env.stack.responses.suspend("carol", actor="chris", reason="incident 44")
            with pytest.raises(AccessDeniedError):
                env.stack.responses.request_lift(suspension.response_id, actor="carol")


def _firm_with_role_admin() -> FirmConfig:
    """The cases firm plus rita, who holds only role_admin (the approver of role grants)."""
    data = tomllib.loads(EXAMPLE_FIRM.read_text())
    data["principals"] += [
        {"id": "quinn", "name": "Quinn Desk Compliance", "roles": ["compliance"], "desk": "equities"},
        {"id": "rita", "name": "Rita Role Admin", "roles": ["role_admin"]},
    ]
    return parse_config(data, "lift firm")


class TestSuspensionLiftApproval:
    def test_a_lift_is_a_suspension_lift_request_for_investigators(self, db_url: str) -> None:
        """The lift opens a suspension_lift request: one approval by compliance or security, and the
        subject and the requester are both barred from approving it."""
        with case_env(db_url) as env:
            suspension = env.stack.responses.suspend("alice", actor="carol", reason="incident 45")
            request = env.approvals.store.get(
                env.stack.responses.request_lift(suspension.response_id, actor="carol")
            )
            assert request is not None
            assert request.action is SensitiveAction.SUSPENSION_LIFT
            assert request.eligible_roles == {Role.COMPLIANCE, Role.SECURITY}
            assert request.quorum == 1
            assert {"alice", "carol"} <= request.interested()

    def test_only_compliance_or_security_other_than_subject_and_requester_approve(self, db_url: str) -> None:
        """alice and carol are refused as interested, rita (role_admin) and olga (order approver) as
        not eligible; quinn (compliance) approves and the lift goes through."""
        with case_env(db_url, firm=_firm_with_role_admin()) as env:
            suspension = env.stack.responses.suspend("alice", actor="carol", reason="incident 46")
            approval_id = env.stack.responses.request_lift(suspension.response_id, actor="carol")
            request = env.approvals.store.get(approval_id)
            assert request is not None
            votes = {
                who: env.approvals.approve(approval_id, who, request.digest, env.clock()).reason
                for who in ("alice", "carol", "rita", "olga")
            }
            assert votes == {
                "alice": ReasonCode.SOD_SELF_APPROVAL,
                "carol": ReasonCode.SOD_SELF_APPROVAL,
                "rita": ReasonCode.APPROVAL_NOT_ELIGIBLE,
                "olga": ReasonCode.APPROVAL_NOT_ELIGIBLE,
            }
            assert env.approvals.approve(approval_id, "quinn", request.digest, env.clock()).allowed
            lifted = env.stack.responses.lift_suspension(
                suspension.response_id, actor="carol", approval_id=approval_id
            )
            assert lifted.approval_id == approval_id
            assert not env.stack.state.is_suspended("alice")

    def test_an_approval_of_another_action_cannot_lift(self, db_url: str) -> None:
        """An approved role_grant request is refused as a lift (APPROVAL_REPLAYED); alice stays suspended."""
        with case_env(db_url) as env:
            suspension = env.stack.responses.suspend("alice", actor="carol", reason="incident 47")
            content = {"target": "alice", "role": "trader"}
            _, grant = env.approvals.open(
                SensitiveAction.ROLE_GRANT, "grant:alice", "chris", content, env.clock()
            )
            assert grant is not None
            assert env.approvals.approve(grant.id, "sofia", grant.digest, env.clock()).allowed
            with pytest.raises(AccessDeniedError) as refused:
                env.stack.responses.lift_suspension(
                    suspension.response_id, actor="carol", approval_id=grant.id
                )
            assert refused.value.decision.reason is ReasonCode.APPROVAL_REPLAYED
            assert env.stack.state.is_suspended("alice")


class TestBlocksAndHolds:
    def test_a_blocked_pattern_refuses_only_matching_orders(self, db_url: str) -> None:
        """Blocking alice's AAPL orders to DARK-X leaves her other orders alone."""
        with case_env(db_url) as env:
            env.stack.responses.block(
                BlockedPattern("alice", "AAPL", None, "DARK-X"), actor="sofia", reason="r"
            )
            state = env.stack.state
            assert (
                state.check_order("alice", symbol="AAPL", venue="DARK-X").reason is ReasonCode.PATTERN_BLOCKED
            )
            assert state.check_order("alice", symbol="AAPL", venue="XNYS").allowed

    def test_a_legal_hold_covers_the_subjects_records_and_refuses_erasure(self, db_url: str) -> None:
        """Under a hold on alice, her account, case, orders and audit entries are held; erasure is refused."""
        with case_env(db_url) as env:
            store_events(
                env.events,
                [
                    event(
                        "o-1",
                        EventKind.CLIENT_ORDER,
                        "alice",
                        T0,
                        account="C-PENSION-1",
                        symbol="AAPL",
                        side=Side.BUY,
                        qty=10,
                        order_id="ORD-A",
                    )
                ],
            )
            env.stack.alerts.ingest([alert()])
            [case] = env.stack.store.cases()
            env.stack.responses.legal_hold(
                "alice", actor="carol", reason="litigation 7", case_id=case.case_id
            )
            state = env.stack.state
            assert all(
                state.is_held(x) for x in ("alice", "PA-alice", case.case_id, alert().alert_id, "ORD-A")
            )
            assert not state.is_held("bob")
            assert not state.is_held("PA-bob")

            class HoldFirst:
                is_held = staticmethod(state.is_held)

                def check_approval(self, request: ErasureRequest) -> Decision:
                    return Decision.allow(f"approved {request.approval}")

            index = env.stack.audit_evidence.find(objects={case.case_id})[0][0]  # type: ignore[union-attr]
            with pytest.raises(ErasureRefusedError) as refused:
                erase(
                    env.log,
                    HoldFirst(),
                    index=index,
                    requested_by="chris",
                    reason="court order",
                    approval="a-1",
                )
            assert refused.value.decision.reason is ReasonCode.LEGAL_HOLD


class TestReapproval:
    def test_pending_approvals_of_the_subject_are_voided(self, db_url: str) -> None:
        """Forcing re-approval rejects alice's pending large-order request (audited) and leaves bob's."""
        with case_env(db_url) as env:
            _, mine = env.approvals.open(
                SensitiveAction.LARGE_ORDER, "ord-9", "alice", {"actor": "alice"}, T0
            )
            _, bobs = env.approvals.open(SensitiveAction.LARGE_ORDER, "ord-8", "bob", {"actor": "bob"}, T0)
            assert mine is not None
            assert bobs is not None
            _, voided = env.stack.responses.force_reapproval("alice", actor="carol", reason="incident 42")
            assert voided == [mine.id]
            assert env.approvals.store.get(mine.id).status is RequestStatus.REJECTED  # type: ignore[union-attr]
            assert env.approvals.store.get(bobs.id).status is RequestStatus.PENDING  # type: ignore[union-attr]


class TestErasureAuthority:
    def test_erasure_needs_an_approval_and_no_hold(self, db_url: str) -> None:
        """Erasing a held subject's entry is refused even when approved; an unheld one needs two approvers."""
        with case_env(db_url) as env:
            env.stack.alerts.ingest([alert(), alert(actor="bob", event_ids=("ev-b",))])
            cases = {c.subject: c.case_id for c in env.stack.store.cases()}
            env.stack.responses.legal_hold("alice", actor="carol", reason="litigation 7")
            authority = HoldAndApprovalAuthority(env.stack.state, env.approvals, env.clock)
            evidence = env.stack.audit_evidence
            assert evidence is not None
            held = evidence.find(objects={cases["alice"]})[0][0]
            free = evidence.find(objects={cases["bob"]})[0][0]
            approvals = {}
            for index, object_id in ((held, cases["alice"]), (free, cases["bob"])):
                content = erasure_content(index, object_id, "chris")
                _, request = env.approvals.open(
                    SensitiveAction.AUDIT_ERASURE, erasure_object(index), "chris", content, env.clock()
                )
                assert request is not None
                for approver in ("carol", "sofia"):
                    assert env.approvals.approve(request.id, approver, request.digest, env.clock()).allowed
                approvals[index] = request.id
            with pytest.raises(ErasureRefusedError) as refused:
                erase(
                    env.log,
                    authority,
                    index=held,
                    requested_by="chris",
                    reason="gdpr",
                    approval=approvals[held],
                )
            assert refused.value.decision.reason is ReasonCode.LEGAL_HOLD
            with pytest.raises(ErasureRefusedError) as unapproved:
                erase(
                    env.log, authority, index=free, requested_by="chris", reason="gdpr", approval="apr-none"
                )
            assert unapproved.value.decision.reason is ReasonCode.APPROVAL_REQUIRED
            erase(
                env.log, authority, index=free, requested_by="chris", reason="gdpr", approval=approvals[free]
            )
            assert env.log.store.entry(free)[4] is None  # type: ignore[index]
