"""The approval engine: open a request, collect votes, decide whether the action may execute.

Every vote and execution is checked by the rules in ``approvals.refusals`` (self-approval,
eligibility, duplicates, replay, stale content, expiry, rejection, spent requests); each refusal
is audited with its reason code. Every entry is appended to the audit sink before the store
changes, so the log never lags the state.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace

from orderguard.approvals import refusals
from orderguard.approvals.model import (
    NOWHERE,
    ApprovalRequest,
    ApprovalRule,
    Origin,
    RequestStatus,
    SensitiveAction,
    Verdict,
    Vote,
    canonical_digest,
)
from orderguard.approvals.store import ApprovalStore
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, ReasonCode
from orderguard.policy.directory import RoleDirectory

NS = 1_000_000_000


class ApprovalEngine:
    """Four-eyes (or N-eyes) approval for sensitive actions."""

    def __init__(
        self,
        store: ApprovalStore,
        audit: AuditSink,
        directory: RoleDirectory,
        rules: Mapping[SensitiveAction, ApprovalRule],
    ) -> None:
        self.store = store
        self.audit = audit
        self.directory = directory
        self.rules = dict(rules)

    # ---- opening and changing requests ------------------------------------------------------
    def open(
        self,
        action: SensitiveAction,
        object_id: str,
        initiator: str,
        content: Mapping[str, object],
        now: int,
        *,
        origin: Origin = NOWHERE,
    ) -> tuple[Decision, ApprovalRequest | None]:
        """Open a request for ``action`` on ``object_id`` with the exact ``content`` to approve."""
        rule = self.rules[action]
        principal = self.directory.get(initiator)
        if principal is None or initiator in self.directory.suspended:
            decision = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"{initiator!r} is unknown or suspended")
            self.record(object_id, initiator, now, AuditAction.REFUSED, decision, origin=origin)
            return decision, None
        request = ApprovalRequest(
            id=f"apr-{secrets.token_hex(8)}",
            action=action,
            object_id=object_id,
            initiator=initiator,
            content=dict(content),
            digest=canonical_digest(action, object_id, content),
            created_ns=now,
            expires_ns=now + int(rule.ttl_seconds * NS),
            quorum=rule.quorum,
            eligible_roles=rule.eligible_roles,
        )
        decision = Decision.allow(f"{action.value} on {object_id} needs {rule.quorum} approval(s)")
        self.record(request.id, initiator, now, AuditAction.REQUESTED, decision, after=request, origin=origin)
        self.store.save(request)
        return decision, request

    def modify(self, request_id: str, actor: str, content: Mapping[str, object], now: int) -> Decision:
        """Change what is to be approved (initiator only); every earlier approval becomes stale."""
        request = self.store.get(request_id)
        refusal = self.closed_refusal(request, request_id, now)
        if refusal is None and request is not None and actor != request.initiator:
            refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"only the initiator may modify {request_id}")
        if refusal is None and request is not None and request.break_glass is not None:
            # The glass was broken (and people notified) for this content; it must not cover other content.
            refusal = Decision.deny(
                ReasonCode.NOT_AUTHORIZED,
                f"break-glass was invoked on {request_id}; its content is fixed, open a new request",
            )
        if refusal is not None or request is None:
            return self.refuse(request_id, actor, now, refusal)
        changed = replace(
            request,
            content=dict(content),
            digest=canonical_digest(request.action, request.object_id, content),
        )
        decision = Decision.allow(
            f"{request_id} modified; {len(request.current_approvers())} approval(s) now stale"
        )
        self.record(request_id, actor, now, AuditAction.MODIFIED, decision, before=request, after=changed)
        self.store.save(changed)
        return decision

    # ---- votes ------------------------------------------------------------------------------
    def approve(
        self, request_id: str, approver: str, digest: str, now: int, *, origin: Origin = NOWHERE
    ) -> Decision:
        """``approver`` approves ``request_id`` as it stood at ``digest``."""
        vote = Vote(request_id, approver, digest, Verdict.APPROVE, now)
        return self.vote(vote, request_id, now, origin=origin)

    def reject(
        self,
        request_id: str,
        approver: str,
        digest: str,
        now: int,
        note: str = "",
        *,
        origin: Origin = NOWHERE,
    ) -> Decision:
        """One rejection by an eligible approver ends the request."""
        vote = Vote(request_id, approver, digest, Verdict.REJECT, now, note)
        return self.vote(vote, request_id, now, origin=origin)

    def vote(self, vote: Vote, request_id: str, now: int, *, origin: Origin = NOWHERE) -> Decision:
        """Apply ``vote`` to ``request_id``; a vote issued for another request is refused as a replay."""
        request = self.store.get(request_id)
        refusal = self._vote_refusal(vote, request, request_id, now)
        if refusal is not None or request is None:
            return self.refuse(request_id, vote.approver, now, refusal, origin=origin)
        if vote.verdict is Verdict.REJECT:
            updated = replace(
                request, votes=(*request.votes, vote), status=RequestStatus.REJECTED, closed_reason=vote.note
            )
            decision = Decision.deny(ReasonCode.APPROVAL_REJECTED, f"{vote.approver} rejected {request_id}")
            self.record(
                request_id,
                vote.approver,
                now,
                AuditAction.REJECTED,
                decision,
                before=request,
                after=updated,
                origin=origin,
            )
        else:
            updated = replace(request, votes=(*request.votes, vote))
            have = len(updated.current_approvers())
            decision = Decision.allow(f"{vote.approver} approved {request_id} ({have} of {request.quorum})")
            self.record(
                request_id,
                vote.approver,
                now,
                AuditAction.APPROVED,
                decision,
                before=request,
                after=updated,
                origin=origin,
            )
        self.store.save(updated)
        return decision

    def _vote_refusal(
        self, vote: Vote, request: ApprovalRequest | None, request_id: str, now: int
    ) -> Decision | None:
        refusal = refusals.vote_refusal(self.directory, vote, request, request_id, now)
        if refusal is not None and refusal.reason is ReasonCode.APPROVAL_EXPIRED:
            self._mark_expired(request)
        return refusal

    # ---- execution --------------------------------------------------------------------------
    def readiness(
        self, request: ApprovalRequest | None, action: SensitiveAction, object_id: str, digest: str, now: int
    ) -> Decision:
        """May the action on ``object_id`` with content ``digest`` execute under ``request`` now?"""
        # No write here: readiness is part of the side-effect-free order check.
        return refusals.readiness(request, action, object_id, digest, now)

    def execute(
        self,
        request_id: str,
        action: SensitiveAction,
        object_id: str,
        content: Mapping[str, object],
        *,
        actor: str,
        now: int,
    ) -> Decision:
        """Audit and spend an approved request for exactly ``content``; the caller acts only if allowed."""
        request = self.store.get(request_id)
        decision = self.readiness(
            request, action, object_id, canonical_digest(action, object_id, content), now
        )
        if not decision.allowed or request is None:
            return self.refuse(request_id, actor, now, decision)
        executed = replace(request, status=RequestStatus.EXECUTED)
        self.record(request_id, actor, now, AuditAction.EXECUTED, decision, before=request, after=executed)
        self.store.save(executed)
        return decision

    def consume(self, request_id: str) -> None:
        """Mark the request executed so its approvals can never be used again (caller audits first)."""
        request = self.store.get(request_id)
        if request is not None:
            self.store.save(replace(request, status=RequestStatus.EXECUTED))

    # ---- helpers ----------------------------------------------------------------------------
    def closed_refusal(self, request: ApprovalRequest | None, request_id: str, now: int) -> Decision | None:
        """A refusal if the request no longer accepts votes or execution; marks it expired when due."""
        refusal = refusals.closed_refusal(request, request_id, now)
        if refusal is not None and refusal.reason is ReasonCode.APPROVAL_EXPIRED:
            self._mark_expired(request)
        return refusal

    def _mark_expired(self, request: ApprovalRequest | None) -> None:
        if request is not None and request.status is not RequestStatus.EXPIRED:
            self.store.save(replace(request, status=RequestStatus.EXPIRED))

    def refuse(
        self, request_id: str, actor: str, now: int, refusal: Decision | None, *, origin: Origin = NOWHERE
    ) -> Decision:
        decision = refusal or Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no approval request {request_id!r}")
        self.record(request_id, actor, now, AuditAction.REFUSED, decision, origin=origin)
        return decision

    def record(
        self,
        object_id: str,
        actor: str,
        now: int,
        action: AuditAction,
        decision: Decision,
        *,
        before: ApprovalRequest | None = None,
        after: ApprovalRequest | None = None,
        origin: Origin = NOWHERE,
    ) -> int:
        """Append one approval entry to the audit log (returns once durable), with the caller's origin."""
        return self.audit.append(
            AuditEntry(
                kind="approval",
                action=action,
                object_id=object_id,
                actor=actor,
                ts=now,
                before=None if before is None else before.summary(),
                after=None if after is None else after.summary(),
                ip=origin.ip,
                session_id=origin.session_id,
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )
