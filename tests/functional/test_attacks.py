"""The attack suite: each insider attempt is refused with the right reason code, and audited.

Every attack runs against the example firm's real controls (Cedar policies, approval engine,
gate) over an in-memory audit log, then the test checks both the decision and the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orderguard.approvals.model import SensitiveAction, Verdict, Vote
from orderguard.config import FirmConfig
from orderguard.deploy.codeowners import load_codeowners
from orderguard.deploy.gate import audit_deploy, check_deploy, deploy_content
from orderguard.deploy.git import read_range
from orderguard.domain import Decision, ReasonCode, Role, Side
from orderguard.gateway.stack import ControlsStack
from tests.controls_support import SECOND, T0, MemoryAuditSink, make_stack, order
from tests.deploy_support import commit, make_repo

Attack = Callable[[ControlsStack, MemoryAuditSink, Path], Decision]
BIG = order("O-BIG", qty=10_000)  # 2,000,000 notional: above the 1,000,000 threshold


def _open_big(s: ControlsStack) -> tuple[str, str]:
    _, request = s.approvals.open(
        SensitiveAction.LARGE_ORDER, BIG.order_id, "alice", BIG.approval_content(), T0
    )
    assert request is not None
    return request.id, request.digest


def self_approval(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    return s.approvals.approve(request_id, "alice", digest, T0)


def approving_twice(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    s.approvals.approve(request_id, "carol", digest, T0)
    return s.approvals.approve(request_id, "carol", digest, T0 + SECOND)


def modified_after_approval(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    s.approvals.approve(request_id, "carol", digest, T0)
    bigger = order("O-BIG", qty=50_000)  # the trader changes the order after carol approved it
    return s.gate.submit(bigger).decision


def approval_replayed(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    s.approvals.approve(request_id, "carol", digest, T0)
    other = order("O-OTHER", qty=10_000, approval_request_id=request_id)
    return s.gate.submit(other).decision


def vote_replayed(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    first_id, first_digest = _open_big(s)
    _, second = s.approvals.open(SensitiveAction.WITHDRAWAL, "W-1", "walt", {"amount": 5_000_000}, T0)
    assert second is not None
    vote = Vote(first_id, "olga", first_digest, Verdict.APPROVE, T0)
    return s.approvals.vote(vote, second.id, T0)


def expired_approval(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    s.approvals.approve(request_id, "carol", digest, T0)
    late = order("O-BIG", qty=10_000, ts=T0 + int(s.config.controls.approval_ttl_seconds) * SECOND)
    return s.gate.submit(late).decision


def approver_without_role(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, digest = _open_big(s)
    return s.approvals.approve(request_id, "bob", digest, T0)


def granting_oneself_an_approver_role(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    return s.grants.propose("chris", "chris", Role.WITHDRAWAL_APPROVER, T0)[0]


def break_glass_without_reason(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    request_id, _ = _open_big(s)
    return s.break_glass.invoke(request_id, "alice", "", T0)


def conflicting_role_grant(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    return s.grants.propose("chris", "walt", Role.WITHDRAWAL_APPROVER, T0)[0]


def unapproved_venue(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    return s.gate.submit(order(venue="DARK-X")).decision


def personal_trade_while_client_order_works(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    assert s.gate.submit(order("C-1", actor="alice", symbol="MSFT", qty=2_000)).go
    return s.preclearance.request("bob", "PA-bob", symbol="MSFT", side=Side.BUY, qty=100, now=T0 + SECOND)[0]


def deploy_approved_only_by_author(s: ControlsStack, audit: MemoryAuditSink, tmp: Path) -> Decision:
    repo, base = make_repo(tmp)
    commit(repo, {"src/app.py": "steal = True\n"}, "devon")
    change = read_range(repo, f"{base}..HEAD")
    _, request = s.approvals.open(
        SensitiveAction.DEPLOY, f"deploy:{change.head}", "sofia", deploy_content(repo.name, change), T0
    )
    assert request is not None
    s.approvals.approve(request.id, "devon", request.digest, T0)
    rules, _ = load_codeowners(repo, change.base, None)
    principals = [p.to_domain() for p in s.config.principals]
    verdict = check_deploy(change, repo.name, rules, s.approvals.store.requests(), principals, now=T0)
    audit_deploy(audit, verdict, "devon", T0)
    return verdict.decision()


ATTACKS: list[tuple[str, Attack, ReasonCode]] = [
    ("self-approval", self_approval, ReasonCode.SOD_SELF_APPROVAL),
    ("one person approving twice", approving_twice, ReasonCode.APPROVAL_DUPLICATE_APPROVER),
    ("approval, then the order modified", modified_after_approval, ReasonCode.APPROVAL_STALE),
    ("an approval replayed onto another order", approval_replayed, ReasonCode.APPROVAL_REPLAYED),
    ("a vote replayed onto another request", vote_replayed, ReasonCode.APPROVAL_REPLAYED),
    ("an expired approval", expired_approval, ReasonCode.APPROVAL_EXPIRED),
    ("an approver without the role", approver_without_role, ReasonCode.APPROVAL_NOT_ELIGIBLE),
    ("granting oneself an approver role", granting_oneself_an_approver_role, ReasonCode.SOD_SELF_APPROVAL),
    ("break-glass without a reason", break_glass_without_reason, ReasonCode.BREAK_GLASS_NO_REASON),
    ("a conflicting role grant", conflicting_role_grant, ReasonCode.SOD_CONFLICTING_ROLES),
    ("an order to an unapproved venue", unapproved_venue, ReasonCode.VENUE_NOT_APPROVED),
    (
        "a personal trade while a client order works",
        personal_trade_while_client_order_works,
        ReasonCode.PRECLEARANCE_BLACKOUT,
    ),
    ("a deploy approved only by its author", deploy_approved_only_by_author, ReasonCode.DEPLOY_NOT_APPROVED),
]


class TestAttacks:
    @pytest.mark.parametrize(("name", "attack", "reason"), ATTACKS, ids=[a[0] for a in ATTACKS])
    def test_refused_and_audited(
        self, firm: FirmConfig, tmp_path: Path, name: str, attack: Attack, reason: ReasonCode
    ) -> None:
        """The attempt is refused with its reason code and the refusal is in the audit log."""
        s, audit, _ = make_stack(firm)
        decision = attack(s, audit, tmp_path)
        assert not decision.allowed, f"{name} was allowed: {decision}"
        assert decision.reason is reason, f"{name}: {decision}"
        refusals = [e for e in audit.entries if e.reason_code == reason.value and e.decision == "deny"]
        assert refusals, f"{name}: no audit entry with {reason.value}"

    def test_nothing_executed_after_the_attacks(self, firm: FirmConfig, tmp_path: Path) -> None:
        """Across all attacks on one stack, no large order or grant went through."""
        s, audit, _ = make_stack(firm)
        for _, attack, _ in ATTACKS:
            if attack in (deploy_approved_only_by_author,):
                continue
            attack(s, audit, tmp_path)
        assert not any(
            e.kind == "order" and e.object_id in {"O-BIG", "O-OTHER"} and e.decision == "allow"
            for e in audit.entries
        )
        assert Role.WITHDRAWAL_APPROVER not in s.directory.get("walt").roles  # type: ignore[union-attr]
