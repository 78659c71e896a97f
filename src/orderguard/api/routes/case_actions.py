"""Acting on a case: assign an investigator, take a response (suspend, block, legal hold, forced
re-approval), and end one (a suspension lift needs an approval; a block or a hold is released).

Each route has its own Cedar action; the cases stage then applies its rules (never the subject,
nor someone conflicted with them; a lift needs an approval by someone other than the requester
and the subject) and audits every step.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from orderguard.api.case_schemas import (
    AssignIn,
    CaseDetailOut,
    LiftIn,
    LiftRequestOut,
    ReleaseIn,
    ResponseIn,
    ResponseOut,
)
from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError
from orderguard.api.routes.cases import NOT_FOUND, WORK, Worker, case_detail, guarded, response_out
from orderguard.cases.model import BlockedPattern, Response

router = APIRouter(prefix="/api/v1", tags=["alerts and cases"])
ASSIGN = Permission(
    "assign_case", "Case", decided_by="cases stage: never the subject, nor a conflicted person"
)
REQUEST_LIFT = Permission("request_lift", "CaseResponse", decided_by="approval engine: suspension_lift")
LIFT = Permission("lift_suspension", "CaseResponse", decided_by="approval engine: a met suspension_lift")
RELEASE = Permission("release_response", "CaseResponse")
ERRORS = {**ERROR_RESPONSES, **NOT_FOUND}


@router.post(
    "/cases/{case_id}/assign", response_model=CaseDetailOut, responses=ERRORS, openapi_extra=ASSIGN.openapi()
)
def assign(
    case_id: str, body: AssignIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(ASSIGN))]
) -> CaseDetailOut:
    """Assign an investigator (refused, with its reason code, for the subject or a conflicted person)."""
    if ctx.controls.directory.get(body.assignee) is None:
        raise ApiError(400, "BAD_CHANGE", f"assignee: {body.assignee!r} is not a principal of the firm file")
    cases = ctx.cases
    guarded(lambda: cases.cases.assign(case_id, body.assignee, actor=caller.id))
    return case_detail(ctx, case_id, caller.id)


def _pattern(subject: str, body: ResponseIn) -> BlockedPattern | None:
    fields = {"symbol": body.symbol, "account": body.account, "venue": body.venue}
    given = [name for name, value in fields.items() if value is not None]
    if body.kind != "block":
        if given:
            raise ApiError(
                400, "BAD_CHANGE", f"{', '.join(given)}: only a block response takes an order pattern"
            )
        return None
    if not given:
        raise ApiError(
            400, "BAD_CHANGE", "a block names a symbol, account or venue; to stop all order entry, suspend"
        )
    return BlockedPattern(subject, body.symbol, body.account, body.venue)


@router.post(
    "/cases/{case_id}/responses",
    response_model=ResponseOut,
    status_code=201,
    responses=ERRORS,
    openapi_extra=WORK.openapi(),
)
def respond(case_id: str, body: ResponseIn, ctx: Ctx, caller: Worker) -> ResponseOut:
    """Act on the case's subject: suspend, block an order pattern, legal hold or force re-approval."""
    cases = ctx.cases
    view = guarded(lambda: cases.cases.show(case_id, actor=caller.id))
    subject, service, reason = view.case.subject, cases.responses, body.reason
    pattern = _pattern(subject, body)
    taken: Response
    if pattern is not None:
        taken = guarded(lambda: service.block(pattern, actor=caller.id, reason=reason, case_id=case_id))
    elif body.kind == "suspend":
        taken = guarded(lambda: service.suspend(subject, actor=caller.id, reason=reason, case_id=case_id))
    elif body.kind == "legal_hold":
        taken = guarded(lambda: service.legal_hold(subject, actor=caller.id, reason=reason, case_id=case_id))
    else:
        taken = guarded(
            lambda: service.force_reapproval(subject, actor=caller.id, reason=reason, case_id=case_id)[0]
        )
    return response_out(taken)


@router.post(
    "/responses/{response_id}/lift-request",
    response_model=LiftRequestOut,
    status_code=201,
    responses=ERRORS,
    openapi_extra=REQUEST_LIFT.openapi(),
)
def request_lift(
    response_id: str, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(REQUEST_LIFT))]
) -> LiftRequestOut:
    """Open the suspension_lift approval a suspension needs before it can be lifted."""
    service = ctx.cases.responses
    approval_id = guarded(lambda: service.request_lift(response_id, actor=caller.id))
    return LiftRequestOut(response_id=response_id, approval_id=approval_id)


@router.post(
    "/responses/{response_id}/lift",
    response_model=ResponseOut,
    responses=ERRORS,
    openapi_extra=LIFT.openapi(),
)
def lift(
    response_id: str, body: LiftIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(LIFT))]
) -> ResponseOut:
    """Reinstate the suspended principal under a met suspension_lift approval (spent once)."""
    service = ctx.cases.responses
    return response_out(
        guarded(lambda: service.lift_suspension(response_id, actor=caller.id, approval_id=body.approval_id))
    )


@router.post(
    "/responses/{response_id}/release",
    response_model=ResponseOut,
    responses=ERRORS,
    openapi_extra=RELEASE.openapi(),
)
def release(
    response_id: str, body: ReleaseIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(RELEASE))]
) -> ResponseOut:
    """Release a block or a legal hold; the reason is kept as a comment on the response's case."""
    cases = ctx.cases
    released = guarded(lambda: cases.responses.release(response_id, actor=caller.id, reason=body.reason))
    if released.case_id is not None:
        note = f"released {released.kind.value} {response_id}: {body.reason}"
        guarded(lambda: cases.cases.comment(released.case_id or "", note, actor=caller.id))
    return response_out(released)
