"""The deploy gate: may the range ``base..head`` deploy?

Rules (every failure is reported, not just the first): at least ``MIN_APPROVALS`` approvals of the
exact head revision; approvals by any author (or committer) of a commit in the range do not count,
and every commit author must be a principal of the firm file (else their own approval could not be
recognised and excluded; git identities are self-asserted, see docs/threat-model.md); approvals of
an older revision (or of request content since modified) are stale; every changed path needs an
approval from one of its CODEOWNERS owners (a path without an owner cannot deploy). Approvals
are DEPLOY requests of the approval engine whose content names the repository and head.

Emergency override: a pending DEPLOY request for exactly this range with an active break-glass
grant (``BreakGlass.invoke``: initiator only, a reason, a short TTL, security and the skipped
approvers notified, a review item open until a second person closes it) lets the range deploy
although the rules above fail. The verdict still lists every reason it overrides; the decision is
audited as ``break_glass`` and security is notified again and alerted when it is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from orderguard.approvals.breakglass import AlertSink, Notification, NotificationSink
from orderguard.approvals.model import (
    ApprovalRequest,
    BreakGlassGrant,
    RequestStatus,
    SensitiveAction,
    Verdict,
)
from orderguard.deploy.codeowners import OwnerRule, owners_for
from orderguard.deploy.git import ChangeSet, is_ancestor
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Principal, ReasonCode, Role
from orderguard.domain.alerts import Alert

MIN_APPROVALS: Final = 2
BREAK_GLASS_RULE: Final = "break_glass_deploy"


@dataclass(frozen=True, slots=True)
class DeployVerdict:
    """The gate's answer with every reason it may not deploy."""

    change: ChangeSet
    authors: tuple[str, ...]
    approvers: tuple[str, ...]
    reasons: tuple[str, ...] = field(default=())
    break_glass: BreakGlassGrant | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons or self.break_glass is not None

    @property
    def emergency(self) -> bool:
        """Allowed only because of a break-glass grant (``reasons`` are what it overrides)."""
        return bool(self.reasons) and self.break_glass is not None

    def decision(self) -> Decision:
        grant = self.break_glass
        if not self.reasons:
            return Decision.allow(f"{self.change.head[:12]} approved by {', '.join(self.approvers)}")
        if grant is not None:
            return Decision.allow(
                f"BREAK-GLASS deploy of {self.change.head[:12]} by {grant.invoker} "
                f"({grant.request_id}: {grant.reason}); overriding: {'; '.join(self.reasons)}"
            )
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
    writers = {identify(n, e, people.values()) for n, e in change.authors}
    # A committer writing under someone else's author name is a writer too (when we know them).
    writers |= {w for w in (identify(n, e, people.values()) for n, e in change.committers) if w in people}
    authors = tuple(sorted(writers))
    requests = list(requests)
    approvers, reasons = _approvals(change, repo_name, requests, authors, now)
    reasons.extend(
        f"commit author {name} <{email}> is no principal of the firm file, so their own approval "
        "cannot be told apart; commit as a principal (their e-mail or id) or add the e-mail to one"
        for name, email in change.authors
        if identify(name, email, people.values()) not in people
    )
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
    grant = _active_break_glass(change, repo_name, requests, now)
    return DeployVerdict(change, authors, tuple(sorted(approvers)), tuple(dict.fromkeys(reasons)), grant)


def _active_break_glass(
    change: ChangeSet, repo_name: str, requests: Iterable[ApprovalRequest], now: int
) -> BreakGlassGrant | None:
    """An active break-glass grant on a pending DEPLOY request for exactly this range, if any."""
    for request in requests:
        content = request.content
        grant = request.break_glass
        if (
            request.action is SensitiveAction.DEPLOY
            and content.get("repo") == repo_name
            and content.get("base") == change.base
            and content.get("head") == change.head
            and request.status is RequestStatus.PENDING
            and now < request.expires_ns
            and grant is not None
            and grant.active(now)
        ):
            return grant
    return None


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


def audit_deploy(
    audit: AuditSink,
    verdict: DeployVerdict,
    actor: str,
    now: int,
    *,
    principals: Iterable[Principal] = (),
    notifications: NotificationSink | None = None,
    alerts: AlertSink | None = None,
) -> int:
    """Record the gate's decision (before any deploy runs); returns the audit index.

    For an emergency (break-glass) deploy the entry's action is ``break_glass`` and names the grant
    and the recipients; then every security principal is notified and an alert is raised.
    """
    decision = verdict.decision()
    grant = verdict.break_glass if verdict.emergency else None
    security = sorted(p.id for p in principals if Role.SECURITY in p.roles)
    after: dict[str, object] = {
        "base": verdict.change.base,
        "paths": list(verdict.change.paths),
        "authors": list(verdict.authors),
        "approvers": list(verdict.approvers),
        "reasons": list(verdict.reasons),
    }
    if grant is not None:
        after["break_glass"] = {
            "request_id": grant.request_id,
            "invoker": grant.invoker,
            "reason": grant.reason,
            "expires_ns": grant.expires_ns,
            "review_open": grant.review_open,
            "notified": security,
        }
    index = audit.append(
        AuditEntry(
            kind="deploy",
            action=AuditAction.BREAK_GLASS if grant is not None else AuditAction.DECIDED,
            object_id=verdict.change.head,
            actor=actor,
            ts=now,
            after=after,
            decision="allow" if decision.allowed else "deny",
            reason_code=decision.reason.value,
        )
    )
    if grant is not None:
        _raise_emergency(verdict, grant, security, now, notifications=notifications, alerts=alerts)
    return index


def _raise_emergency(
    verdict: DeployVerdict,
    grant: BreakGlassGrant,
    security: list[str],
    now: int,
    *,
    notifications: NotificationSink | None,
    alerts: AlertSink | None,
) -> None:
    head = verdict.change.head[:12]
    subject = f"BREAK-GLASS DEPLOY: {head} deploys without its approvals ({grant.invoker})"
    body = (
        f"reason: {grant.reason}; overridden: {'; '.join(verdict.reasons)}; review of "
        f"{grant.request_id} stays open until a second person closes it"
    )
    if notifications is not None:
        for recipient in security:
            notifications.notify(Notification(recipient, subject, body, grant.request_id, now))
    if alerts is not None:
        alerts.raise_alert(
            Alert.build(
                rule=BREAK_GLASS_RULE,
                severity="high",
                actor=grant.invoker,
                symbol=None,
                ts=now,
                event_ids=(grant.request_id, verdict.change.head),
                explanation=f"{grant.invoker} deployed {head} under break-glass: {grant.reason}",
                action="alert",
                scope="deploy",
            )
        )
