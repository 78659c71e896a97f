"""API tokens in the UI: everyone manages their own; compliance and security revoke anyone's.

Everyone's tokens are listed a page at a time (``PAGE_SIZE``, by owner then age), filtered by owner
and state through the query string, with a link to the next page.

A new or rotated token's secret is shown once, in the response to the form that made it (never
in a URL, never cached: ``Cache-Control: no-store``); the table keeps only its SHA-256. Every form
carries the session's CSRF token, and the token desk audits each change before it happens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import URL

from orderguard.api.deps import Ctx, Permission
from orderguard.api.paging import CursorError, decode_cursor, encode_cursor
from orderguard.api.routes.system import MANAGE, SELF
from orderguard.auth.token_desk import TokenDesk
from orderguard.auth.tokens import TOKEN_KEY_SHAPE, TokenError, TokenInfo, TokenState
from orderguard.web.render import CurrentWebUser, WebUser, allowed, allowed_quiet, form_allowed, page

router = APIRouter(include_in_schema=False)
LIFETIMES: Final = ("30", "90", "365", "never")  # days, as the form offers them
DEFAULT_LIFETIME: Final = "90"
PAGE_SIZE: Final = 50
OWNER_MAX: Final = 128


def _desk(ctx: Ctx) -> TokenDesk:
    return TokenDesk(ctx.tokens, ctx.audit, ctx.clock)


def _tokens_page(
    request: Request,
    ctx: Ctx,
    user: WebUser,
    status: int = 200,
    *,
    issued: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    administers = allowed_quiet(ctx, user, MANAGE)
    listing = _everyone(request, ctx) if administers else None
    if listing is not None and listing.error and error is None:
        error, status = listing.error, 400
    return page(  # Cache-Control: no-store, as every page of a logged-in user
        request,
        ctx,
        user,
        "tokens.html",
        status,
        mine=ctx.tokens.list(user.id),
        everyone=listing,
        administers=administers,
        issued=issued,
        error=error,
        now=time.time_ns(),
        lifetimes=LIFETIMES,
        default_lifetime=DEFAULT_LIFETIME,
        page_size=PAGE_SIZE,
        states=[s.value for s in TokenState],
    )


@dataclass(frozen=True, slots=True)
class EveryonesTokens:
    """One page of everyone's tokens as the filters in the query string chose it."""

    tokens: list[TokenInfo]
    owner: str
    state: str
    next_url: str | None
    first_url: str | None  # set when this is not the first page
    error: str | None = None


def _everyone(request: Request, ctx: Ctx) -> EveryonesTokens:
    query = request.query_params if request.method == "GET" else {}
    owner = query.get("owner", "").strip()[:OWNER_MAX]
    state_text = query.get("state", "")
    cursor = query.get("cursor") or None
    problems = []
    state = TokenState(state_text) if state_text in set(TokenState) else None
    if state_text and state is None:
        problems.append(f"state: {state_text[:20]!r} is not one of {', '.join(TokenState)}; pick one")
    after = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor, TOKEN_KEY_SHAPE)
        except CursorError as exc:
            problems.append(f"{exc} (the page's 'next' link)")
    found, more = ctx.tokens.page(limit=PAGE_SIZE, after=after, owner=owner or None, state=state)
    filters = {k: v for k, v in (("owner", owner), ("state", state.value if state else "")) if v}
    first_url = str(URL("/tokens").include_query_params(**filters))
    next_url = None
    if more and found:
        next_url = str(URL(first_url).include_query_params(cursor=encode_cursor(found[-1].key)))
    return EveryonesTokens(
        found,
        owner,
        state.value if state else "",
        next_url,
        first_url if after is not None else None,
        "; ".join(problems) or None,
    )


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@router.get("/tokens", response_class=HTMLResponse, openapi_extra=SELF.openapi())
def tokens_page(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = allowed(request, ctx, user, SELF)
    return refused or _tokens_page(request, ctx, user)


@router.post("/tokens", response_class=HTMLResponse, openapi_extra=SELF.openapi())
async def issue_token(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """A new token for the user; the page that answers shows its secret once."""
    refused = await form_allowed(request, ctx, user, SELF)
    if refused:
        return refused
    form = await _form(request)
    try:
        secret = _desk(ctx).issue(
            user.caller_requester, form.get("label", ""), form.get("lifetime", DEFAULT_LIFETIME)
        )
    except TokenError as exc:
        return _tokens_page(request, ctx, user, 400, error=str(exc))
    return _tokens_page(request, ctx, user, 201, issued=secret)


@router.post("/tokens/{token_id}/rotate", response_class=HTMLResponse, openapi_extra=SELF.openapi())
async def rotate_token(request: Request, token_id: str, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """Replace one of the user's tokens; the answer shows the replacement's secret once."""
    refused = await form_allowed(request, ctx, user, SELF)
    if refused:
        return refused
    try:
        secret = _desk(ctx).rotate(user.caller_requester, token_id)
    except TokenError as exc:
        return _tokens_page(request, ctx, user, 400, error=str(exc))
    return _tokens_page(request, ctx, user, 201, issued=secret)


@router.post("/tokens/{token_id}/revoke", response_model=None, openapi_extra=SELF.openapi())
async def revoke_own_token(request: Request, token_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """Revoke one of the user's own tokens at once."""
    return await _revoke(request, ctx, user, token_id, SELF)


@router.post("/admin/tokens/{token_id}/revoke", response_model=None, openapi_extra=MANAGE.openapi())
async def revoke_any_token(request: Request, token_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """Revoke anyone's token (compliance, security); someone else's needs a reason."""
    return await _revoke(request, ctx, user, token_id, MANAGE)


async def _revoke(
    request: Request, ctx: Ctx, user: WebUser, token_id: str, permission: Permission
) -> Response:
    refused = await form_allowed(request, ctx, user, permission)
    if refused:
        return refused
    reason = (await _form(request)).get("reason", "")
    try:
        _desk(ctx).revoke(user.caller_requester, token_id, reason=reason, any_owner=permission is MANAGE)
    except TokenError as exc:
        return _tokens_page(request, ctx, user, 400, error=str(exc))
    return RedirectResponse("/tokens", status_code=303)
