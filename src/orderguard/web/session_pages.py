"""Login and logout: a password per principal, a server-side session, an HttpOnly SameSite=Strict cookie.

The login form has no session yet, so no CSRF token: a login posted from another site (login
CSRF, which would sign the victim in as the attacker) is refused by the browser's own
``Sec-Fetch-Site`` and ``Origin`` headers instead.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderguard.api.deps import SESSION_COOKIE, Ctx, client_ip
from orderguard.auth.sessions import new_session_id, session_ref
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


def cross_site(request: Request) -> bool:
    """True when the browser says this request comes from another site than ours."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


@router.post("/login", response_model=None)
def login(
    request: Request, ctx: Ctx, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    forged = cross_site(request)
    principal = ctx.controls.directory.get(username.strip())
    ok = not forged and principal is not None and ctx.sessions.check_password(principal.id, password)
    session_id = new_session_id()  # named in the entry, so that the session's page views link to it
    ctx.audit.append(
        AuditEntry(
            kind="login",
            action=AuditAction.CREATED if ok else AuditAction.REFUSED,
            object_id=username[:128],
            actor=username[:128],
            ts=ctx.clock(),
            ip=client_ip(request),
            session_id=f"web:{session_ref(session_id)}" if ok else None,
            decision="allow" if ok else "deny",
            reason_code="ALLOWED" if ok else ("CROSS_SITE" if forged else "NOT_AUTHORIZED"),
        )
    )
    if forged:
        message = "A login posted from another site is refused: open /login on this server and log in there."
        return page(request, ctx, None, "login.html", 403, error=message)
    if not ok or principal is None:
        return page(request, ctx, None, "login.html", 401, error="Unknown user or wrong password.")
    cookie, _ = ctx.sessions.start(principal.id, client_ip(request), session_id)
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
    ctx.audit.append(
        AuditEntry(
            kind="login",
            action=AuditAction.CANCELLED,  # the session this login started is over
            object_id=user.id,
            actor=user.id,
            ts=ctx.clock(),
            ip=user.caller.ip,
            session_id=user.caller.session_id,
            decision="allow",
            reason_code="ALLOWED",
        )
    )
    if cookie:
        ctx.sessions.end(cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def home(user: CurrentWebUser) -> Response:
    return RedirectResponse(home_for(user.caller.principal.roles), status_code=303)
