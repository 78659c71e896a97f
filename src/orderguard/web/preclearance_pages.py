"""Personal-trade pre-clearance in the web UI: ask for one, see my requests and where they stand;
compliance and security see everyone's.

A request goes through the same call as ``POST /api/v1/preclearance``: the firm's rules (restricted
list, blackout, holding period) decide at once, and request and decision are audited with the
caller's IP and session. There is no vote: the rules are the compliance department's, written
in the firm file; compliance reviews the decisions here.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from orderguard.api.deps import Ctx
from orderguard.api.routes.cases import READ as REVIEW_ALL
from orderguard.api.routes.controls import PRECLEAR, preclearance
from orderguard.api.schemas import PreclearanceIn
from orderguard.app import AppContext
from orderguard.domain import AccountType
from orderguard.gateway.preclearance_store import PreClearanceRecord
from orderguard.web.form_input import FormError, form_values, parse_form
from orderguard.web.paging import Pages
from orderguard.web.render import CurrentWebUser, WebUser, allowed, allowed_quiet, form_allowed, page

router = APIRouter(include_in_schema=False)
REQUESTS_PER_PAGE = 25
FIELDS = ("account", "symbol", "side", "qty")


def state_of(record: PreClearanceRecord, now: int) -> str:
    """Where a request stands: refused, used (the cleared trade ran), expired or cleared."""
    if not record.allowed:
        return "refused"
    if record.spent_ns is not None:
        return "used"
    if record.expires_ns is not None and record.expires_ns <= now:
        return "expired"
    return "cleared"


@router.get("/preclearance", response_class=HTMLResponse, openapi_extra=PRECLEAR.openapi())
def preclearance_page(
    request: Request,
    ctx: Ctx,
    user: CurrentWebUser,
    scope: Literal["mine", "all"] = "mine",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> HTMLResponse:
    """My requests, or (``scope=all``, compliance and security) everyone's."""
    refused = allowed(request, ctx, user, REVIEW_ALL if scope == "all" else PRECLEAR)
    if refused:
        return refused
    return _view(request, ctx, user, scope=scope, page_number=page_number)


@router.post("/preclearance", response_class=HTMLResponse, openapi_extra=PRECLEAR.openapi())
async def ask(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """Ask to trade in my personal account; the rules decide at once."""
    refused = await form_allowed(request, ctx, user, PRECLEAR)
    if refused:
        return refused
    values = form_values(await request.form(), FIELDS, upper=("symbol",))
    try:
        body = parse_form(PreclearanceIn, values)
    except FormError as exc:  # nothing is asked, stored or decided for an incomplete form
        return await _rendered(request, ctx, user, status=422, errors=exc.errors, form=values)
    answer = await run_in_threadpool(preclearance, body, ctx, user.caller)
    keep = {} if answer.decision.allowed else values  # a refusal keeps the form to change and ask again
    return await _rendered(request, ctx, user, answer=answer, asked=body, form=keep)


async def _rendered(request: Request, ctx: AppContext, user: WebUser, **values: object) -> HTMLResponse:
    """The page for the async handler, built in the thread pool (it reads the requests from the database)."""
    return await run_in_threadpool(partial(_view, request, ctx, user, **values))  # type: ignore[arg-type]


def _view(
    request: Request,
    ctx: AppContext,
    user: WebUser,
    *,
    scope: str = "mine",
    page_number: int = 1,
    status: int = 200,
    form: dict[str, str] | None = None,
    **answer: object,
) -> HTMLResponse:
    records = ctx.controls.preclearance.history(None if scope == "all" else user.id)[::-1]  # newest first
    query = {"scope": "all"} if scope == "all" else {}
    pages = Pages.of("/preclearance", query, len(records), page_number, REQUESTS_PER_PAGE)
    now = ctx.clock()
    shown = pages.slice(records)
    return page(
        request,
        ctx,
        user,
        "preclearance.html",
        status,
        scope=scope,
        form=form or {},
        accounts=sorted(
            a.id
            for a in ctx.config.accounts().values()
            if a.type is AccountType.PERSONAL and a.owner == user.id
        ),
        records=[(r, state_of(r, now)) for r in shown],
        pages=pages,
        can_review=allowed_quiet(ctx, user, REVIEW_ALL),
        **answer,
    )
