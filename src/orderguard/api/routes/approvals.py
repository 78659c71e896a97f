"""Approvals (four-eyes): open a large-order request, list what I may approve, approve, reject."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse, Responses
from orderguard.api.paging import PAGED_HEADERS, Paged
from orderguard.api.schemas import ApprovalOpen, ApprovalOut, DecisionOut, Vote, VoteResult
from orderguard.app import AppContext
from orderguard.approvals.model import ApprovalRequest, Origin, RequestStatus, SensitiveAction
from orderguard.domain import Decision

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])
VOTE = Permission(
    "approve_request", "ApprovalRequest", decided_by="approval engine (eligible role, never the initiator)"
)
REJECT = Permission(
    "reject_request", "ApprovalRequest", decided_by="approval engine (eligible role, never the initiator)"
)
OPEN = Permission("request_approval", "ApprovalRequest", decided_by="approval engine (known, not suspended)")
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "no such request"}}
PAGED: Responses = {**ERROR_RESPONSES, 200: {"headers": PAGED_HEADERS}}


def approval_out(r: ApprovalRequest) -> ApprovalOut:
    return ApprovalOut(
        request_id=r.id,
        action=r.action.value,
        object_id=r.object_id,
        initiator=r.initiator,
        content=dict(r.content),
        digest=r.digest,
        status=r.status.value,
        quorum=r.quorum,
        approvers=sorted(r.current_approvers()),
        expires_ns=r.expires_ns,
        break_glass=r.break_glass is not None,
    )


def origin_of(caller: Caller) -> Origin:
    """The caller's IP and credential, for the audit entries a stage writes (refusals too)."""
    return Origin(caller.ip, caller.session_id)


def vote_result(decision: Decision, request: ApprovalRequest | None) -> VoteResult:
    """The answer to an action on an approval request: the decision and the request as it now stands."""
    return VoteResult(
        decision=DecisionOut.of(decision), request=None if request is None else approval_out(request)
    )


def act_on_request(ctx: AppContext, request_id: str, act: Callable[[], Decision]) -> VoteResult:
    """404 for an unknown request; else ``act``'s decision (a refusal is a normal answer, not an
    HTTP error) with the request as it stands afterwards."""
    store = ctx.controls.approvals.store
    if store.get(request_id) is None:
        raise ApiError(404, "NO_SUCH_REQUEST", f"no approval request {request_id!r}")
    decision = act()
    return vote_result(decision, store.get(request_id))


def awaiting(ctx: AppContext, principal_id: str) -> list[ApprovalRequest]:
    """Pending, unexpired requests ``principal_id`` may approve and has not approved yet."""
    principal = ctx.controls.directory.get(principal_id)
    now = ctx.clock()
    if principal is None:
        return []
    return sorted(
        (
            r
            for r in ctx.controls.approvals.store.requests(RequestStatus.PENDING)
            if r.expires_ns > now
            and principal_id not in r.interested()
            and principal.roles & r.eligible_roles
            and principal_id not in r.current_approvers()
        ),
        key=oldest_first,
    )


def oldest_first(r: ApprovalRequest) -> tuple[int, str]:
    return (r.created_ns, r.id)


def newest_first(r: ApprovalRequest) -> tuple[int, str]:
    return (-r.created_ns, r.id)


def mine(ctx: AppContext, principal_id: str) -> list[ApprovalRequest]:
    return sorted(
        (r for r in ctx.controls.approvals.store.requests() if r.initiator == principal_id),
        key=newest_first,
    )


@router.get("/pending", response_model=list[ApprovalOut], responses=PAGED, openapi_extra=VOTE.openapi())
def my_pending(
    ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(VOTE))], paging: Paged
) -> list[ApprovalOut]:
    """Requests waiting for the caller's approval (never their own: four-eyes), oldest first, in pages."""
    return [approval_out(r) for r in paging.page_of(awaiting(ctx, caller.id), oldest_first, (int, str))]


@router.get("/mine", response_model=list[ApprovalOut], responses=PAGED, openapi_extra=OPEN.openapi())
def my_requests(
    ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(OPEN))], paging: Paged
) -> list[ApprovalOut]:
    """Requests the caller opened, newest first, in pages."""
    return [approval_out(r) for r in paging.page_of(mine(ctx, caller.id), newest_first, (int, str))]


@router.post(
    "", response_model=VoteResult, status_code=201, responses=ERROR_RESPONSES, openapi_extra=OPEN.openapi()
)
def open_large_order(
    body: ApprovalOpen, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(OPEN))]
) -> VoteResult:
    """Ask for approval of a large order before entering it (the order must then match exactly)."""
    from orderguard.api.routes.orders import ticket_of

    ticket = ticket_of(body.order, caller, ctx.clock())
    decision, request = ctx.controls.approvals.open(
        SensitiveAction.LARGE_ORDER,
        ticket.order_id,
        caller.id,
        ctx.controls.controls.approval_content(ticket),  # a SELL's request shows its notional's reference
        ticket.ts,
        origin=origin_of(caller),
    )
    return vote_result(decision, request)


def _vote(ctx: AppContext, request_id: str, caller: Caller, body: Vote, approve: bool) -> VoteResult:
    engine = ctx.controls.approvals
    origin = origin_of(caller)

    def cast() -> Decision:
        now = ctx.clock()
        if approve:
            return engine.approve(request_id, caller.id, body.digest, now, origin=origin)
        return engine.reject(request_id, caller.id, body.digest, now, body.note, origin=origin)

    return act_on_request(ctx, request_id, cast)


@router.post(
    "/{request_id}/approve",
    response_model=VoteResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=VOTE.openapi(),
)
def approve(
    request_id: str, body: Vote, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(VOTE))]
) -> VoteResult:
    """Approve the request as it stood at ``digest`` (a changed request needs a new look)."""
    return _vote(ctx, request_id, caller, body, approve=True)


@router.post(
    "/{request_id}/reject",
    response_model=VoteResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=REJECT.openapi(),
)
def reject(
    request_id: str, body: Vote, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(REJECT))]
) -> VoteResult:
    """Reject the request; one eligible rejection ends it."""
    return _vote(ctx, request_id, caller, body, approve=False)
