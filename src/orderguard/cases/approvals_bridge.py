"""What responses need from the approval engine: approval-gated lifting of a suspension, and
forcing pending approvals of a suspect to be given again.

Both are narrow protocols so the cases stage does not depend on the engine's internals.
``EngineLiftApprovals`` runs lifts through ``orderguard.approvals.ApprovalEngine``: the approval
content names the suspended principal as ``actor``, so the engine never counts the subject's own
vote, and the initiator cannot approve either. The action is ``suspension_lift``, approved by
compliance or security (``orderguard.approvals.rules``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import RequestStatus, SensitiveAction
from orderguard.approvals.store import ApprovalStore
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, ReasonCode


class LiftApprovals(Protocol):
    """Opens and spends the approval that lifting a suspension needs."""

    def request_lift(
        self, *, response_id: str, principal: str, initiator: str, now: int
    ) -> tuple[Decision, str | None]:
        """Open a request; returns the decision and the request id (None if refused)."""
        ...

    def spend_lift(
        self, *, approval_id: str, response_id: str, principal: str, actor: str, now: int
    ) -> Decision:
        """Allowed only if ``approval_id`` approves lifting ``response_id``; spends it (no reuse)."""
        ...


class ReapprovalHook(Protocol):
    """Makes every pending approval involving ``principal`` void, so it must be approved again."""

    def force_reapproval(self, principal: str, *, actor: str, reason: str, now: int) -> list[str]:
        """Void the pending requests; returns their ids."""
        ...


def _lift_object(response_id: str) -> str:
    return f"lift:{response_id}"


def _lift_content(response_id: str, principal: str) -> dict[str, object]:
    return {"actor": principal, "lift": response_id}


class EngineLiftApprovals:
    """``LiftApprovals`` on the real approval engine."""

    action = SensitiveAction.SUSPENSION_LIFT

    def __init__(self, engine: ApprovalEngine) -> None:
        self.engine = engine

    def request_lift(
        self, *, response_id: str, principal: str, initiator: str, now: int
    ) -> tuple[Decision, str | None]:
        decision, request = self.engine.open(
            self.action, _lift_object(response_id), initiator, _lift_content(response_id, principal), now
        )
        return decision, None if request is None else request.id

    def spend_lift(
        self, *, approval_id: str, response_id: str, principal: str, actor: str, now: int
    ) -> Decision:
        return self.engine.execute(
            approval_id,
            self.action,
            _lift_object(response_id),
            _lift_content(response_id, principal),
            actor=actor,
            now=now,
        )


class StoreReapproval:
    """``ReapprovalHook`` on an approval store: pending requests the principal initiated or is the
    actor of are closed as rejected (audited first), so the orders need a fresh approval."""

    def __init__(self, store: ApprovalStore, audit: AuditSink) -> None:
        self.store = store
        self.audit = audit

    def force_reapproval(self, principal: str, *, actor: str, reason: str, now: int) -> list[str]:
        voided: list[str] = []
        for request in self.store.requests(RequestStatus.PENDING):
            if principal not in (request.initiator, request.content.get("actor")):
                continue
            closed = replace(
                request, status=RequestStatus.REJECTED, closed_reason=f"re-approval forced: {reason}"
            )
            decision = Decision.deny(
                ReasonCode.APPROVAL_REJECTED, f"{request.id} voided by {actor}: re-approval forced ({reason})"
            )
            self.audit.append(
                AuditEntry(
                    kind="approval",
                    action=AuditAction.REJECTED,
                    object_id=request.id,
                    actor=actor,
                    ts=now,
                    before=request.summary(),
                    after=closed.summary(),
                    decision="deny",
                    reason_code=decision.reason.value,
                )
            )
            self.store.save(closed)
            voided.append(request.id)
        return voided
