"""Pre-clearance of personal trades, role grants (four-eyes) and break-glass."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ErrorResponse, Responses
from orderguard.api.routes.approvals import act_on_request, origin_of, vote_result
from orderguard.api.schemas import (
    BreakGlassIn,
    DecisionOut,
    GrantApply,
    GrantIn,
    PreclearanceIn,
    PreclearanceOut,
    ReviewIn,
    VoteResult,
)
from orderguard.domain import Decision

router = APIRouter(prefix="/api/v1", tags=["controls"])
PRECLEAR = Permission(
    "request_preclearance", "PersonalTrading", decided_by="pre-clearance rules (own personal account)"
)
GRANT = Permission(
    "propose_role_grant", "RoleAssignment", decided_by="role grants (role_admin, SoD, four-eyes)"
)
GLASS = Permission(
    "break_glass", "BreakGlassAccess", decided_by="break-glass (initiator, reason, second-person review)"
)
REVIEW = Permission(
    "review_break_glass", "BreakGlassAccess", decided_by="break-glass review (compliance or security)"
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "no such request"}}


@router.post(
    "/preclearance",
    response_model=PreclearanceOut,
    responses=ERROR_RESPONSES,
    openapi_extra=PRECLEAR.openapi(),
)
def preclearance(
    body: PreclearanceIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(PRECLEAR))]
) -> PreclearanceOut:
    """Ask to trade in your own personal account; a granted clearance covers one trade for 24 h."""
    decision, clearance = ctx.controls.preclearance.request(
        caller.id,
        body.account,
        symbol=body.symbol,
        side=body.side,
        qty=body.qty,
        now=ctx.clock(),
        origin=origin_of(caller),
    )
    return PreclearanceOut(
        decision=DecisionOut.of(decision),
        clearance_id=None if clearance is None else clearance.clearance_id,
        expires_ns=None if clearance is None else clearance.expires_ns,
    )


@router.post(
    "/roles/grants",
    response_model=VoteResult,
    status_code=201,
    responses=ERROR_RESPONSES,
    openapi_extra=GRANT.openapi(),
)
def propose_grant(body: GrantIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(GRANT))]) -> VoteResult:
    """Propose granting a role; refused at once if it breaks separation of duties, else needs approval."""
    return vote_result(*ctx.controls.grants.propose(caller.id, body.target, body.role, ctx.clock()))


@router.post(
    "/roles/grants/{request_id}/apply",
    response_model=VoteResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=GRANT.openapi(),
)
def apply_grant(
    request_id: str, body: GrantApply, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(GRANT))]
) -> VoteResult:
    """Apply an approved grant (quorum, digest and SoD are checked again)."""
    grants = ctx.controls.grants

    def apply() -> Decision:
        return grants.apply(request_id, actor=caller.id, target=body.target, role=body.role, now=ctx.clock())

    return act_on_request(ctx, request_id, apply)


@router.post(
    "/break-glass/{request_id}",
    response_model=VoteResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=GLASS.openapi(),
)
def break_glass(
    request_id: str, body: BreakGlassIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(GLASS))]
) -> VoteResult:
    """Bypass a pending quorum in an emergency: reason required, security notified, review opened."""
    glass = ctx.controls.break_glass
    origin = origin_of(caller)
    return act_on_request(
        ctx, request_id, lambda: glass.invoke(request_id, caller.id, body.reason, ctx.clock(), origin=origin)
    )


@router.post(
    "/break-glass/{request_id}/review",
    response_model=VoteResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=REVIEW.openapi(),
)
def close_review(
    request_id: str, body: ReviewIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(REVIEW))]
) -> VoteResult:
    """Close a break-glass review as a second person from compliance or security."""
    glass = ctx.controls.break_glass
    origin = origin_of(caller)
    return act_on_request(
        ctx,
        request_id,
        lambda: glass.close_review(request_id, caller.id, body.note, ctx.clock(), origin=origin),
    )
