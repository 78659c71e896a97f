"""Case page controls the form in ``pages`` does not take: assign an investigator, block an order
pattern, and release a block or a legal hold. Same rules as the API routes in ``case_actions``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from orderguard.api.deps import Ctx, Permission
from orderguard.api.routes.case_actions import ASSIGN, RELEASE
from orderguard.api.routes.cases import WORK as WORK_CASES
from orderguard.cases.model import AccessDeniedError, BlockedPattern, CaseError
from orderguard.web.render import CurrentWebUser, WebUser, form_allowed, page, refused_page

router = APIRouter(include_in_schema=False)
PATTERN_FIELDS = ("symbol", "account", "venue")


async def _act(
    request: Request, ctx: Ctx, user: WebUser, permission: Permission, act: Callable[[dict[str, str]], str]
) -> Response:
    """CSRF, Cedar, then ``act(form)`` (returns the case to show); refusals as the refused page."""
    refused = await form_allowed(request, ctx, user, permission)
    if refused:
        return refused
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    try:
        case_id = act(form)
    except AccessDeniedError as exc:
        return refused_page(request, ctx, user, exc)
    except CaseError as exc:
        return page(request, ctx, user, "refused.html", 400, reason="BAD_CHANGE", message=str(exc))
    return RedirectResponse(f"/cases/{case_id}" if case_id else "/alerts", status_code=303)


@router.post("/cases/{case_id}/assign", response_model=None, openapi_extra=ASSIGN.openapi())
async def assign(request: Request, case_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """Assign an investigator (never the subject, nor anyone conflicted with them)."""
    cases = ctx.cases

    def act(form: dict[str, str]) -> str:
        assignee = form.get("assignee", "")
        if ctx.controls.directory.get(assignee) is None:
            raise CaseError(f"assignee {assignee!r} is not in the firm file; pick one from the list")
        cases.cases.assign(case_id, assignee, actor=user.id)
        return case_id

    return await _act(request, ctx, user, ASSIGN, act)


@router.post("/cases/{case_id}/block", response_model=None, openapi_extra=WORK_CASES.openapi())
async def block(request: Request, case_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """Refuse the subject's orders matching the symbol, account and venue given (at least one)."""
    cases = ctx.cases

    def act(form: dict[str, str]) -> str:
        given = {name: form.get(name) or None for name in PATTERN_FIELDS}
        if not any(given.values()):
            raise CaseError("a block names a symbol, account or venue; to stop all order entry, suspend")
        subject = cases.cases.show(case_id, actor=user.id).case.subject
        pattern = BlockedPattern(subject, given["symbol"], given["account"], given["venue"])
        reason = form.get("reason") or "taken from the case page"
        cases.responses.block(pattern, actor=user.id, reason=reason, case_id=case_id)
        return case_id

    return await _act(request, ctx, user, WORK_CASES, act)


@router.post("/responses/{response_id}/release", response_model=None, openapi_extra=RELEASE.openapi())
async def release(request: Request, response_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """End a block or a legal hold; the reason goes on the case as a note."""
    cases = ctx.cases

    def act(form: dict[str, str]) -> str:
        reason = form.get("reason", "")
        if not reason:
            raise CaseError("releasing a response needs a reason")
        released = cases.responses.release(response_id, actor=user.id, reason=reason)
        case_id = released.case_id or ""
        if case_id:
            note = f"released {released.kind.value} {response_id}: {reason}"
            cases.cases.comment(case_id, note, actor=user.id)
        return case_id

    return await _act(request, ctx, user, RELEASE, act)
