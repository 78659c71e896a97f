"""Why the approval engine refuses a vote or an execution: its rule checks, with no writes.

Each check returns the refusal (a deny ``Decision`` with its reason code) or ``None``/an allow;
the engine audits the outcome and changes the store. Rules: the approver is never the initiator
(SOD_SELF_APPROVAL); the approver holds an eligible role (APPROVAL_NOT_ELIGIBLE); each person
counts once (APPROVAL_DUPLICATE_APPROVER); a vote binds to the request id and content digest
(APPROVAL_REPLAYED, APPROVAL_STALE); requests expire (APPROVAL_EXPIRED); a rejected request stays
rejected (APPROVAL_REJECTED); an executed request is spent (APPROVAL_REPLAYED).
"""

from __future__ import annotations

from orderguard.approvals.model import (
    BREAK_GLASS_ACTIONS,
    ApprovalRequest,
    RequestStatus,
    SensitiveAction,
    Verdict,
    Vote,
)
from orderguard.domain import Decision, ReasonCode
from orderguard.policy.directory import RoleDirectory


def closed_refusal(request: ApprovalRequest | None, request_id: str, now: int) -> Decision | None:
    """A refusal if the request no longer accepts votes or execution (missing, spent, rejected, expired)."""
    if request is None:
        return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no approval request {request_id!r}")
    if request.status is RequestStatus.EXECUTED:
        return Decision.deny(
            ReasonCode.APPROVAL_REPLAYED, f"{request_id} was already executed; approvals are spent"
        )
    if request.status is RequestStatus.REJECTED:
        return Decision.deny(ReasonCode.APPROVAL_REJECTED, f"{request_id} was rejected")
    if request.status is RequestStatus.EXPIRED or now >= request.expires_ns:
        return Decision.deny(ReasonCode.APPROVAL_EXPIRED, f"{request_id} expired")
    return None


def vote_refusal(  # noqa: PLR0911 - one guard clause per rule reads best
    directory: RoleDirectory, vote: Vote, request: ApprovalRequest | None, request_id: str, now: int
) -> Decision | None:
    """A refusal if ``vote`` may not count on ``request_id`` now; ``None`` if it counts."""
    if vote.request_id != request_id:
        return Decision.deny(
            ReasonCode.APPROVAL_REPLAYED,
            f"a vote issued for {vote.request_id} cannot be applied to {request_id}",
        )
    if request is None:
        return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no approval request {request_id!r}")
    if vote.approver in request.interested():
        return Decision.deny(
            ReasonCode.SOD_SELF_APPROVAL, f"{vote.approver} initiated {request_id} and may not approve it"
        )
    approver = directory.get(vote.approver)
    if (
        approver is None
        or vote.approver in directory.suspended
        or not (approver.roles & request.eligible_roles)
    ):
        roles = ", ".join(sorted(r.value for r in request.eligible_roles))
        return Decision.deny(
            ReasonCode.APPROVAL_NOT_ELIGIBLE,
            f"{vote.approver} holds none of the approver roles ({roles})",
        )
    closed = closed_refusal(request, request_id, now)
    if closed is not None:
        return closed
    if vote.digest != request.digest:
        return Decision.deny(
            ReasonCode.APPROVAL_STALE,
            f"{request_id} changed since {vote.approver} saw it (digest {vote.digest[:12]}...)",
        )
    if vote.verdict is Verdict.APPROVE and vote.approver in request.current_approvers():
        return Decision.deny(
            ReasonCode.APPROVAL_DUPLICATE_APPROVER, f"{vote.approver} already approved {request_id}"
        )
    return None


def readiness(  # noqa: PLR0911 - one guard clause per rule reads best
    request: ApprovalRequest | None, action: SensitiveAction, object_id: str, digest: str, now: int
) -> Decision:
    """May the action on ``object_id`` with content ``digest`` execute under ``request`` now?"""
    if request is None:
        return Decision.deny(ReasonCode.APPROVAL_REQUIRED, f"{action.value} on {object_id} needs approval")
    if request.action is not action or request.object_id != object_id:
        return Decision.deny(
            ReasonCode.APPROVAL_REPLAYED,
            f"{request.id} approves {request.action.value} on {request.object_id}, not {object_id}",
        )
    closed = closed_refusal(request, request.id, now)
    if closed is not None:
        return closed
    if digest != request.digest:
        return Decision.deny(
            ReasonCode.APPROVAL_STALE,
            f"{object_id} differs from what {request.id} approved; approve again",
        )
    if request.quorum_met:
        return Decision.allow(f"{request.id}: approved by {', '.join(sorted(request.current_approvers()))}")
    grant = request.break_glass
    # A grant stored on an action outside the break-glass scope (an older version) is ignored.
    if grant is not None and grant.active(now) and request.action in BREAK_GLASS_ACTIONS:
        return Decision.allow(f"{request.id}: break-glass by {grant.invoker} ({grant.reason})")
    have = len(request.current_approvers())
    return Decision.deny(
        ReasonCode.APPROVAL_REQUIRED, f"{request.id} has {have} of {request.quorum} approval(s)"
    )
