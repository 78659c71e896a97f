"""Login and logout: a password per principal, a server-side session, an HttpOnly SameSite=Strict cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderguard.api.deps import SESSION_COOKIE, Ctx, client_ip
from orderguard.domain import AuditAction, AuditEntry, Role
from orderguard.web.render import CurrentWebUser, page, require_csrf

router = APIRouter(include_in_schema=False)


def home_for(roles: frozenset[Role]) -> str:
    if roles & {Role.COMPLIANCE, Role.SECURITY}:
        return "/alerts"
    return "/approvals"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx) -> HTMLResponse:
    return page(request, ctx, None, "login.html", error=None)


@router.post("/login", response_model=None)
def login(
    request: Request, ctx: Ctx, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    principal = ctx.controls.directory.get(username.strip())
    ok = principal is not None and ctx.sessions.check_password(principal.id, password)
    ctx.audit.append(
        AuditEntry(
            kind="login",
            action=AuditAction.CREATED if ok else AuditAction.REFUSED,
            object_id=username[:128],
            actor=username[:128],
            ts=ctx.clock(),
            ip=client_ip(request),
            decision="allow" if ok else "deny",
            reason_code="ALLOWED" if ok else "NOT_AUTHORIZED",
        )
    )
    if not ok or principal is None:
        return page(request, ctx, None, "login.html", 401, error="Unknown user or wrong password.")
    cookie, _ = ctx.sessions.start(principal.id, client_ip(request))
    response = RedirectResponse(home_for(principal.roles), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=ctx.cookie_secure,
        max_age=int(ctx.sessions.ttl_ns // 1_000_000_000),
        path="/",
    )
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request, ctx: Ctx, user: CurrentWebUser) -> Response:
    await require_csrf(request, user)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        ctx.sessions.end(cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def home(user: CurrentWebUser) -> Response:
    return RedirectResponse(home_for(user.caller.principal.roles), status_code=303)
