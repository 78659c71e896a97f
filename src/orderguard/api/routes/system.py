"""Health, Prometheus metrics, who am I, the caller's API tokens (issue, list, rotate, revoke) and
everyone's tokens for a credentials administrator (list, in pages)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orderguard import __version__
from orderguard.api.deps import Allowed, Caller, Ctx, CurrentCaller, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError
from orderguard.api.metrics import registry_of
from orderguard.api.paging import PAGED_HEADERS, Paged, PageRequest, encode_cursor
from orderguard.api.schemas import Health, Me, TokenIssue, TokenIssued, TokenOut
from orderguard.app import AppContext
from orderguard.auth.token_desk import Requester, TokenDesk
from orderguard.auth.tokens import TOKEN_KEY_SHAPE, TokenError, TokenInfo, TokenState

router = APIRouter()
SELF = Permission(
    "manage_own_credentials", "Credential", decided_by="owner only: a caller manages their own tokens"
)
Self = Annotated[object, Depends(Allowed(SELF))]
MANAGE = Permission(
    "manage_credentials", "Credential", decided_by="cedar; only the owner issues or rotates a token"
)
PAGED = {**ERROR_RESPONSES, 200: {"headers": PAGED_HEADERS}}


def _desk(ctx: AppContext, caller: Caller) -> tuple[TokenDesk, Requester]:
    """The token desk (audits each change before making it, as the web UI's token page does)."""
    return TokenDesk(ctx.tokens, ctx.audit, ctx.clock), Requester(caller.id, caller.ip, caller.session_id)


@router.get("/health", response_model=Health, tags=["system"])
async def health(ctx: Ctx) -> Health:
    """Liveness: the process is up and the audit log answers."""
    return Health(status="ok", version=__version__, audit_size=ctx.audit.head()[0])


@router.get(
    "/metrics", tags=["system"], response_class=Response, responses={200: {"content": {"text/plain": {}}}}
)
def metrics(ctx: Ctx) -> Response:
    """Prometheus text format: requests, latencies, orders by outcome, audit log size, and the case
    desk's alerts per rule, time to triage and to close, and false-positive rate per rule."""
    body = generate_latest(registry_of(ctx)) + ctx.cases.metrics.exposition()
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/me", response_model=Me, responses=ERROR_RESPONSES, tags=["auth"], openapi_extra=SELF.openapi()
)
def me(caller: CurrentCaller, _: Self) -> Me:
    """The authenticated principal and their roles."""
    p = caller.principal
    return Me(
        id=p.id,
        name=p.name,
        roles=sorted(r.value for r in p.roles),
        desk=p.desk,
        credential=caller.session_id,
    )


@router.post(
    "/api/v1/tokens",
    response_model=TokenIssued,
    status_code=201,
    responses=ERROR_RESPONSES,
    tags=["auth"],
    openapi_extra=SELF.openapi(),
)
def issue_token(body: TokenIssue, ctx: Ctx, caller: CurrentCaller, _: Self) -> TokenIssued:
    """A new API token for the caller; the secret is in this response only."""
    desk, by = _desk(ctx, caller)
    try:
        token = desk.issue(by, body.label, "never")
    except TokenError as exc:
        raise ApiError(400, "BAD_TOKEN_REQUEST", str(exc)) from None
    return TokenIssued(token_id=token.split("_")[1], token=token)


@router.get(
    "/api/v1/tokens",
    response_model=list[TokenOut],
    responses=PAGED,
    tags=["auth"],
    openapi_extra=SELF.openapi(),
)
def list_tokens(
    ctx: Ctx, caller: CurrentCaller, _: Self, paging: Paged, state: TokenState | None = None
) -> list[TokenOut]:
    """The caller's tokens (ids and dates, never secrets), oldest first, in pages."""
    return _token_page(ctx, paging, owner=caller.id, state=state)


@router.get(
    "/api/v1/admin/tokens",
    response_model=list[TokenOut],
    responses=PAGED,
    tags=["auth"],
    openapi_extra=MANAGE.openapi(),
)
def list_everyones_tokens(
    ctx: Ctx,
    _: Annotated[object, Depends(Allowed(MANAGE))],
    paging: Paged,
    owner: Annotated[str | None, Query(min_length=1, max_length=128, description="one principal's")] = None,
    state: TokenState | None = None,
) -> list[TokenOut]:
    """Every principal's tokens (never secrets) by owner then age, in pages, for a credentials
    administrator; filtered by owner and state (active, revoked, expired)."""
    return _token_page(ctx, paging, owner=owner, state=state)


def _token_page(
    ctx: AppContext, paging: PageRequest, *, owner: str | None, state: TokenState | None
) -> list[TokenOut]:
    after = paging.after(TOKEN_KEY_SHAPE)
    found, more = ctx.tokens.page(limit=paging.limit, after=after, owner=owner, state=state)
    paging.announce(encode_cursor(found[-1].key) if more else None)
    now = time.time_ns()
    return [token_out(t, now) for t in found]


def token_out(t: TokenInfo, now: int) -> TokenOut:
    return TokenOut(
        token_id=t.token_id,
        owner=t.principal,
        label=t.label,
        created_ns=t.created_ns,
        expires_ns=t.expires_ns,
        revoked_ns=t.revoked_ns,
        state=t.state(now).value,
    )


@router.post(
    "/api/v1/tokens/{token_id}/rotate",
    response_model=TokenIssued,
    responses={**ERROR_RESPONSES, 404: {}},
    tags=["auth"],
    openapi_extra=SELF.openapi(),
)
def rotate_token(token_id: str, ctx: Ctx, caller: CurrentCaller, _: Self) -> TokenIssued:
    """Revoke one of the caller's tokens and issue its replacement."""
    try:
        desk, by = _desk(ctx, caller)
        token = desk.rotate(by, token_id)
    except TokenError as exc:
        raise ApiError(404, "NO_SUCH_TOKEN", str(exc)) from None
    return TokenIssued(token_id=token.split("_")[1], token=token)


@router.delete(
    "/api/v1/tokens/{token_id}",
    status_code=204,
    responses={**ERROR_RESPONSES, 404: {}},
    tags=["auth"],
    openapi_extra=SELF.openapi(),
)
def revoke_token(token_id: str, ctx: Ctx, caller: CurrentCaller, _: Self) -> Response:
    """Revoke one of the caller's tokens at once."""
    desk, by = _desk(ctx, caller)
    try:
        desk.revoke(by, token_id)
    except TokenError as exc:
        raise ApiError(404, "NO_SUCH_TOKEN", str(exc)) from None
    return Response(status_code=204)
