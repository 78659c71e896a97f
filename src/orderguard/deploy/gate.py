"""The deploy gate: may the range ``base..head`` deploy?

Rules (every failure is reported, not just the first): at least ``MIN_APPROVALS`` approvals of the
exact head revision; approvals by any author of a commit in the range do not count; approvals of
an older revision (or of request content since modified) are stale; every changed path needs an
approval from one of its CODEOWNERS owners (a path without an owner cannot deploy). Approvals
are DEPLOY requests of the approval engine whose content names the repository and head.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from orderguard.approvals.model import ApprovalRequest, RequestStatus, SensitiveAction, Verdict
from orderguard.deploy.codeowners import OwnerRule, owners_for
from orderguard.deploy.git import ChangeSet, is_ancestor
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Principal, ReasonCode

MIN_APPROVALS: Final = 2


@dataclass(frozen=True, slots=True)
class DeployVerdict:
    """The gate's answer with every reason it may not deploy."""

    change: ChangeSet
    authors: tuple[str, ...]
    approvers: tuple[str, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def decision(self) -> Decision:
        if self.allowed:
            return Decision.allow(f"{self.change.head[:12]} approved by {', '.join(self.approvers)}")
        return Decision.deny(ReasonCode.DEPLOY_NOT_APPROVED, "; ".join(self.reasons))


def deploy_content(repo_name: str, change: ChangeSet) -> dict[str, object]:
    """What a DEPLOY approval request approves: the repository, the exact range and its paths."""
    return {"repo": repo_name, "base": change.base, "head": change.head, "paths": list(change.paths)}


def identify(name: str, email: str, principals: Iterable[Principal]) -> str:
    """The principal id behind a git identity: by e-mail, else e-mail local part or name as id."""
    people = list(principals)
    for p in people:
        if p.email and p.email.lower() == email.lower():
            return p.id
    ids = {p.id for p in people}
    local = email.partition("@")[0].lower()
    if local in ids:
        return local
    return name.lower() if name.lower() in ids else email.lower()


def _owner_matches(owner: str, approver: str, principals: dict[str, Principal]) -> bool:
    person = principals.get(approver)
    return owner == approver or (person is not None and person.email is not None and owner == person.email)


def check_deploy(
    change: ChangeSet,
    repo_name: str,
    rules: list[OwnerRule],
    requests: Iterable[ApprovalRequest],
    principals: Iterable[Principal],
    *,
    now: int,
) -> DeployVerdict:
    """Apply the deploy rules to ``change`` at ``now`` given every DEPLOY approval request on record."""
    people = {p.id: p for p in principals}
    authors = tuple(sorted({identify(n, e, people.values()) for n, e in change.authors}))
    approvers, reasons = _approvals(change, repo_name, requests, authors, now)
    if len(approvers) < MIN_APPROVALS:
        reasons.append(
            f"needs {MIN_APPROVALS} approvals of {change.head[:12]} by non-authors, has {len(approvers)}"
        )
    for path in change.paths:
        owners = owners_for(path, rules)
        if not owners:
            reasons.append(f"{path}: no owner in CODEOWNERS; add an owner for it")
        elif not any(_owner_matches(o, a, people) for o in owners for a in approvers):
            reasons.append(f"{path}: needs an owner's approval ({', '.join('@' + o for o in owners)})")
    return DeployVerdict(change, authors, tuple(sorted(approvers)), tuple(dict.fromkeys(reasons)))


def _closed(request: ApprovalRequest, now: int) -> str:
    """Why a request's votes no longer count ('' when they do)."""
    if request.status is RequestStatus.REJECTED:
        return "was rejected"
    if request.status is RequestStatus.EXPIRED or now >= request.expires_ns:
        return "expired; ask for approval again"
    return ""


def _approvals(
    change: ChangeSet, repo_name: str, requests: Iterable[ApprovalRequest], authors: tuple[str, ...], now: int
) -> tuple[set[str], list[str]]:
    """Approvers that count for exactly this range, and why every other approval does not."""
    approvers: set[str] = set()
    reasons: list[str] = []
    for request in requests:
        if request.action is not SensitiveAction.DEPLOY or request.content.get("repo") != repo_name:
            continue
        head = str(request.content.get("head", ""))
        current = head == change.head and request.content.get("base") == change.base
        if not current and not (head and is_ancestor(change.repo, head, change.head)):
            continue  # about another line of work: irrelevant
        closed = _closed(request, now)
        if closed:
            reasons.extend([f"approval request {request.id} {closed}"] if current else [])
            continue
        for vote in request.votes:
            if vote.verdict is not Verdict.APPROVE:
                continue
            if not current:
                reasons.append(f"approval by {vote.approver} is stale: it is for older revision {head[:12]}")
            elif vote.digest != request.digest:
                reasons.append(f"approval by {vote.approver} is stale: the request changed after it")
            elif vote.approver in authors:
                reasons.append(f"approval by {vote.approver} does not count: they authored a commit in it")
            else:
                approvers.add(vote.approver)
    return approvers, reasons


def audit_deploy(audit: AuditSink, verdict: DeployVerdict, actor: str, now: int) -> int:
    """Record the gate's decision (before any deploy runs); returns the audit index."""
    decision = verdict.decision()
    return audit.append(
        AuditEntry(
            kind="deploy",
            action=AuditAction.DECIDED,
            object_id=verdict.change.head,
            actor=actor,
            ts=now,
            after={
                "base": verdict.change.base,
                "paths": list(verdict.change.paths),
                "authors": list(verdict.authors),
                "approvers": list(verdict.approvers),
                "reasons": list(verdict.reasons),
            },
            decision="allow" if decision.allowed else "deny",
            reason_code=decision.reason.value,
        )
    )
