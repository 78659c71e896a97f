"""Dependencies: the app context, the caller (token, OIDC JWT or web session) and route permissions.

A route declares its permission with ``Allowed(...)``: a Cedar action on a resource type, decided
by ``orderguard.policy``'s authorizer with the business-hours context before the handler runs; the
stage behind the route then applies its own rules (the approval engine for votes, ...). Order
actions need the order's facts, so the controls gate asks Cedar for them. Either way the request,
with its actor, IP and session, is appended to the audit log (order entry is recorded by the gate
itself, with the same fields).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from orderguard.api.errors import ApiError
from orderguard.app import AppContext
from orderguard.auth.oidc import OidcError
from orderguard.auth.sessions import WebSession, csrf_matches
from orderguard.auth.tokens import TokenError, TokenInfo
from orderguard.domain import AuditAction, AuditEntry, Principal

SESSION_COOKIE = "og_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_context(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, from where, through which credential."""

    principal: Principal
    ip: str | None
    session_id: str | None  # token id, JWT id or web session reference
    web: WebSession | None = None

    @property
    def id(self) -> str:
        return self.principal.id


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _principal(ctx: AppContext, principal_id: str) -> Principal:
    principal = ctx.controls.directory.get(principal_id)
    if principal is None:
        raise ApiError(401, "UNKNOWN_PRINCIPAL", f"{principal_id!r} is not a principal of the firm file")
    return principal


_CALLER = "orderguard.caller"  # the request scope key that remembers the caller for the request


async def authenticate(request: Request, ctx: Ctx) -> Caller:
    """The caller from ``Authorization: Bearer`` (API token or OIDC JWT) or the web session cookie.

    Async so that a request does not hop to the thread pool just to be authenticated: a token
    checked in the last seconds is answered from memory; a database read, a JWKS fetch or a
    session lookup runs in the thread pool. Worked out once per request (kept in its scope).
    """
    caller = request.scope.get(_CALLER)
    if caller is None:
        caller = request.scope[_CALLER] = await _caller_of(request, ctx)
    assert isinstance(caller, Caller)
    return caller


async def _caller_of(request: Request, ctx: AppContext) -> Caller:
    header = request.headers.get("authorization", "")
    if header:
        credential = api_token_of(header)
        if credential is not None:
            info = ctx.tokens.remembered(credential) or await _token_checked_once(request, ctx, credential)
            return Caller(_principal(ctx, info.principal), client_ip(request), f"token:{info.token_id}")
    return await run_in_threadpool(_authenticate, request, ctx)


def api_token_of(header: str) -> str | None:
    """The orderguard API token of an ``Authorization`` header (``Bearer og_...``), else None."""
    _, _, credential = header.partition(" ")
    return credential if credential.startswith("og_") and header[:7].lower() == "bearer " else None


def remembered_caller(ctx: AppContext, header: str, ip: str | None) -> Caller | None:
    """The caller of an API token checked in the last seconds (``TokenService.remembered``), with no
    I/O; None when anything needs more (no such token remembered, unknown principal, other schemes)."""
    credential = api_token_of(header)
    info = ctx.tokens.remembered(credential) if credential is not None else None
    principal = ctx.controls.directory.get(info.principal) if info is not None else None
    if info is None or principal is None:
        return None
    return Caller(principal, ip, f"token:{info.token_id}")


async def _token_checked_once(request: Request, ctx: AppContext, token: str) -> TokenInfo:
    """``TokenService.check`` in the thread pool, one check per token at a time.

    When a token's remembered check runs out, every client using it asks at once (32 under
    sustained order entry): they share one database read instead of 32 thread hops and reads.
    """
    checks: dict[str, asyncio.Future[TokenInfo]] = request.app.state.token_checks
    check = checks.get(token)
    if check is None or check.get_loop() is not asyncio.get_running_loop():
        check = checks[token] = asyncio.ensure_future(run_in_threadpool(ctx.tokens.check, token))
        check.add_done_callback(lambda _done: checks.pop(token, None))
    try:
        return await asyncio.shield(check)
    except TokenError as exc:
        raise ApiError(401, "BAD_CREDENTIALS", str(exc)) from None


def _authenticate(request: Request, ctx: AppContext) -> Caller:
    ip = client_ip(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise ApiError(401, "BAD_CREDENTIALS", "use 'Authorization: Bearer <API token or OIDC JWT>'")
        if credential.startswith("og_"):
            try:
                info = ctx.tokens.check(credential)
            except TokenError as exc:
                raise ApiError(401, "BAD_CREDENTIALS", str(exc)) from None
            return Caller(_principal(ctx, info.principal), ip, f"token:{info.token_id}")
        if ctx.oidc is None:
            raise ApiError(401, "BAD_CREDENTIALS", "not an orderguard API token and OIDC is not configured")
        try:
            claims = ctx.oidc.verify(credential)
        except OidcError as exc:
            raise ApiError(401, "BAD_CREDENTIALS", str(exc)) from None
        principal = _principal(ctx, str(claims[ctx.oidc.principal_claim]))
        return Caller(principal, ip, f"oidc:{claims.get('jti') or claims.get('sid') or 'jwt'}")
    cookie = request.cookies.get(SESSION_COOKIE)
    session = ctx.sessions.resolve(cookie) if cookie else None
    if session is None:
        raise ApiError(
            401, "NOT_AUTHENTICATED", "log in at /login or send an API token", {"WWW-Authenticate": "Bearer"}
        )
    if request.method in UNSAFE and not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "CSRF", "missing or wrong X-CSRF-Token header for this session")
    return Caller(_principal(ctx, session.principal), ip, f"web:{session.session_ref}", session)


CurrentCaller = Annotated[Caller, Depends(authenticate)]


@dataclass(frozen=True, slots=True)
class Permission:
    """What a route needs: a Cedar ``action`` on a ``resource`` type, asked before the handler runs.

    ``decided_by`` names the stage that then applies its own rules (quorum eligibility, own
    personal account, ...). Order actions need the order's facts, so the stage asks Cedar itself
    (``with_order_facts``): the controls gate, the order desk, the need-to-know views.
    """

    action: str
    resource: str
    decided_by: str = "cedar"
    with_order_facts: bool = False
    audit: bool = True

    def openapi(self) -> dict[str, object]:
        return {
            "x-orderguard-permission": {
                "action": self.action,
                "resource": self.resource,
                "decided_by": self.decided_by,
            }
        }


def audit_request(
    ctx: AppContext,
    request: Request,
    caller: Caller,
    permission: Permission,
    *,
    allowed: bool,
    reason: str,
    policy_ids: tuple[str, ...] = (),
) -> None:
    ctx.audit.append(
        AuditEntry(
            kind="api_request",
            action=(AuditAction.VIEWED if request.method == "GET" else AuditAction.REQUESTED)
            if allowed
            else AuditAction.REFUSED,
            object_id=f"{request.method} {request.url.path}",
            actor=caller.id,
            ts=ctx.clock(),
            after={"permission": permission.action, "decided_by": permission.decided_by},
            ip=caller.ip,
            session_id=caller.session_id,
            decision="allow" if allowed else "deny",
            reason_code=reason,
            policy_ids=policy_ids,
        )
    )


def check_permission(
    ctx: AppContext, caller: Caller, permission: Permission
) -> tuple[bool, str, str, tuple[str, ...]]:
    """(allowed, reason code, message, policy ids) of Cedar for ``permission``.

    An order action is allowed through here: the stage asks Cedar with the order's facts.
    """
    if permission.with_order_facts:
        return True, "ALLOWED", f"decided by {permission.decided_by}", ()
    controls = ctx.controls.controls
    context = {"business_hours": controls.business_hours(ctx.clock())}
    decision = ctx.controls.authorizer.authorize(caller.id, permission.action, permission.resource, context)
    return decision.allowed, decision.reason.value, decision.message, decision.policy_ids


def Allowed(permission: Permission) -> Callable[..., Awaitable[Caller]]:  # noqa: N802 - reads as a declaration on the route
    """A dependency that authenticates, authorizes ``permission`` and audits the request."""

    async def dependency(request: Request) -> Caller:
        # The context and the caller are looked up here rather than as sub-dependencies: FastAPI's
        # dependency solving costs tens of microseconds per level on every request (order entry).
        # Cedar decisions are memoised and pure: no thread hop for them. The audit append waits
        # for a durable commit, so it runs in the thread pool (order entry is audited by the gate).
        ctx = await get_context(request)
        caller = await authenticate(request, ctx)
        allowed, reason, message, policy_ids = check_permission(ctx, caller, permission)
        if permission.audit or not allowed:
            await run_in_threadpool(
                partial(
                    audit_request,
                    ctx,
                    request,
                    caller,
                    permission,
                    allowed=allowed,
                    reason=reason,
                    policy_ids=policy_ids,
                )
            )
        if not allowed:
            raise ApiError(403, reason, message)
        return caller

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
