"""Responses to an alert or a case: block a pattern, suspend a principal (lifting is
approval-gated), force re-approval of pending orders, legal hold.

Each response is appended to the audit log first, then stored, then applied to the
``ResponseState`` the order path consults, before the call returns. Manual responses are taken
by investigators (``CaseAccess`` rules); automatic ones by the system actor on a rule's action.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from orderguard.cases.access import CaseAccess
from orderguard.cases.approvals_bridge import LiftApprovals, ReapprovalHook
from orderguard.cases.model import BlockedPattern, CaseError, Response, ResponseKind
from orderguard.cases.response_store import ResponseStore
from orderguard.cases.state import ResponseState
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, ReasonCode

SYSTEM_ACTOR = "orderguard"

_AUDIT_ACTION = {
    ResponseKind.BLOCK: AuditAction.CREATED,
    ResponseKind.SUSPEND: AuditAction.SUSPENDED,
    ResponseKind.LEGAL_HOLD: AuditAction.LEGAL_HOLD,
    ResponseKind.REAPPROVAL: AuditAction.MODIFIED,
}


class SuspensionListener(Protocol):
    """Something else that must know at once (``orderguard.policy.directory.RoleDirectory`` fits)."""

    def suspend(self, principal_id: str) -> None: ...

    def reinstate(self, principal_id: str) -> None: ...


class ResponseService:
    """Takes and lifts responses; every step audited."""

    def __init__(
        self,
        store: ResponseStore,
        state: ResponseState,
        access: CaseAccess,
        audit: AuditSink,
        clock: Callable[[], int],
        *,
        lift_approvals: LiftApprovals | None = None,
        reapproval: ReapprovalHook | None = None,
        listeners: Sequence[SuspensionListener] = (),
    ) -> None:
        self.store = store
        self.state = state
        self.access = access
        self.audit = audit
        self.clock = clock
        self.lift_approvals = lift_approvals
        self.reapproval = reapproval
        self.listeners = tuple(listeners)

    # --- taking responses ------------------------------------------------------------------------
    def suspend(self, principal: str, *, actor: str, reason: str, case_id: str | None = None) -> Response:
        """Revoke order entry and data access of ``principal`` now (already suspended: that response)."""
        self._check(actor, principal, ResponseKind.SUSPEND.value)
        return self._ensure(ResponseKind.SUSPEND, principal, actor=actor, reason=reason, case_id=case_id)

    def block(
        self, pattern: BlockedPattern, *, actor: str, reason: str, case_id: str | None = None
    ) -> Response:
        """Refuse further orders matching ``pattern``."""
        self._check(actor, pattern.actor, ResponseKind.BLOCK.value)
        return self._ensure(
            ResponseKind.BLOCK, pattern.actor, actor=actor, reason=reason, case_id=case_id, pattern=pattern
        )

    def legal_hold(self, subject: str, *, actor: str, reason: str, case_id: str | None = None) -> Response:
        """No retention expiry or erasure of ``subject``'s records while the hold stands."""
        self._check(actor, subject, ResponseKind.LEGAL_HOLD.value)
        return self._ensure(ResponseKind.LEGAL_HOLD, subject, actor=actor, reason=reason, case_id=case_id)

    def automatic(
        self,
        kind: ResponseKind,
        subject: str,
        *,
        reason: str,
        case_id: str | None,
        pattern: BlockedPattern | None = None,
    ) -> Response:
        """A response a rule's action takes by itself, recorded as taken by ``SYSTEM_ACTOR``."""
        return self._ensure(
            kind, subject, actor=SYSTEM_ACTOR, reason=reason, case_id=case_id, pattern=pattern
        )

    def _ensure(
        self,
        kind: ResponseKind,
        subject: str,
        *,
        actor: str,
        reason: str,
        case_id: str | None,
        pattern: BlockedPattern | None = None,
    ) -> Response:
        """The active response of this kind (and pattern) on ``subject``, taken now if there is none."""
        for active in self.store.responses(kind=kind, subject=subject, active_only=True):
            if active.pattern == pattern:
                return active
        response = self._take(kind, subject, actor=actor, reason=reason, case_id=case_id, pattern=pattern)
        if kind is ResponseKind.SUSPEND:
            for listener in self.listeners:
                listener.suspend(subject)
        return response

    def force_reapproval(
        self, principal: str, *, actor: str, reason: str, case_id: str | None = None
    ) -> tuple[Response, list[str]]:
        """Void every pending approval involving ``principal``; returns the response and voided ids."""
        if self.reapproval is None:
            raise CaseError(
                "no approval engine is wired: build the cases stack with approvals to force re-approval"
            )
        self._check(actor, principal, "force re-approval")
        voided = self.reapproval.force_reapproval(principal, actor=actor, reason=reason, now=self.clock())
        response = self._take(
            ResponseKind.REAPPROVAL,
            principal,
            actor=actor,
            reason=f"{reason} (voided: {', '.join(voided) or 'none'})",
            case_id=case_id,
        )
        return response, voided

    def _check(self, actor: str, subject: str, what: str) -> None:
        self.access.require(
            actor, kind="response", object_id=f"{what}:{subject}", subject=subject, read=False
        )

    def _take(
        self,
        kind: ResponseKind,
        subject: str,
        *,
        actor: str,
        reason: str,
        case_id: str | None,
        pattern: BlockedPattern | None = None,
    ) -> Response:
        """Audit, store and apply a new response (callers have checked access)."""
        if not reason.strip():
            raise CaseError(f"a {kind.value} response needs a reason (e.g. the alert or case it answers)")
        response = Response(
            response_id=f"rsp-{secrets.token_hex(8)}",
            kind=kind,
            subject=subject,
            reason=reason,
            created_by=actor,
            created_ns=self.clock(),
            case_id=case_id,
            pattern=pattern,
        )
        self._audit(_AUDIT_ACTION[kind], response, actor, Decision.allow(f"{kind.value} of {subject}"))
        self.store.insert(response)
        self.state._activate(kind, subject, pattern)
        return response

    # --- lifting ---------------------------------------------------------------------------------
    def request_lift(self, response_id: str, *, actor: str) -> str:
        """Open the approval a suspension lift needs; returns the approval request id."""
        response, lift_approvals = self._suspension_to_lift(response_id, actor, "request lift")
        decision, approval_id = lift_approvals.request_lift(
            response_id=response_id, principal=response.subject, initiator=actor, now=self.clock()
        )
        if approval_id is None:
            raise self.access.refuse(actor, "response", response_id, decision)
        return approval_id

    def lift_suspension(self, response_id: str, *, actor: str, approval_id: str) -> Response:
        """Reinstate a suspended principal under a met approval (refused and audited otherwise)."""
        response, lift_approvals = self._suspension_to_lift(response_id, actor, "lift")
        decision = lift_approvals.spend_lift(
            approval_id=approval_id,
            response_id=response_id,
            principal=response.subject,
            actor=actor,
            now=self.clock(),
        )
        if not decision.allowed:
            raise self.access.refuse(actor, "response", response_id, decision)
        return self._lift(response, actor, AuditAction.REINSTATED, approval_id, decision)

    def release(self, response_id: str, *, actor: str, reason: str) -> Response:
        """Lift a block or a legal hold (investigators only; suspensions need ``lift_suspension``)."""
        response = self.store.get(response_id)
        if response is None or not response.active or response.kind is ResponseKind.SUSPEND:
            raise CaseError(
                f"{response_id!r} is not an active block or legal hold; see the responses in `cases show`"
            )
        self._check(actor, response.subject, "release")
        decision = Decision.allow(f"{response.kind.value} of {response.subject} released: {reason}")
        return self._lift(response, actor, AuditAction.MODIFIED, None, decision)

    def _lift(
        self, response: Response, actor: str, action: AuditAction, approval_id: str | None, decision: Decision
    ) -> Response:
        now = self.clock()
        lifted = replace(response, lifted_by=actor, lifted_ns=now, approval_id=approval_id)
        self._audit(action, lifted, actor, decision, before=response)
        if not self.store.mark_lifted(response.response_id, actor, now, approval_id):
            raise CaseError(f"{response.response_id} was lifted meanwhile by someone else")
        self.state.reload()
        if response.kind is ResponseKind.SUSPEND and not self.state.is_suspended(response.subject):
            for listener in self.listeners:
                listener.reinstate(response.subject)
        return lifted

    def _suspension_to_lift(self, response_id: str, actor: str, what: str) -> tuple[Response, LiftApprovals]:
        """The active suspension ``actor`` may work on (access checked) and the approvals that gate
        its lift; CaseError when either is missing."""
        response = self._active(response_id, ResponseKind.SUSPEND)
        self._check(actor, response.subject, what)
        if self.lift_approvals is None:
            raise CaseError("no approval engine is wired: a suspension can only be lifted with an approval")
        return response, self.lift_approvals

    def _active(self, response_id: str, kind: ResponseKind) -> Response:
        response = self.store.get(response_id)
        if response is None or response.kind is not kind or not response.active:
            raise CaseError(
                f"{response_id!r} is not an active {kind.value} response; check the id with `cases show`"
            )
        return response

    def _audit(
        self,
        action: AuditAction,
        response: Response,
        actor: str,
        decision: Decision,
        before: Response | None = None,
    ) -> int:
        return self.audit.append(
            AuditEntry(
                kind="response",
                action=action,
                object_id=response.response_id,
                actor=actor,
                ts=self.clock(),
                before=None if before is None else before.summary(),
                after=response.summary(),
                decision="allow" if decision.allowed else "deny",
                reason_code=ReasonCode.ALLOWED.value if decision.allowed else decision.reason.value,
            )
        )
