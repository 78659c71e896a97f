"""Templates, the logged-in web user and the page permission check (same Cedar actions as the API)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from orderguard.api.deps import (
    SESSION_COOKIE,
    Caller,
    Ctx,
    Permission,
    audit_request,
    check_permission,
    client_ip,
)
from orderguard.app import AppContext
from orderguard.auth.sessions import csrf_matches
from orderguard.cases.model import AccessDeniedError
from orderguard.domain import Role, format_ts

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
templates.env.filters["ts"] = lambda ns: format_ts(int(ns))[:19].replace("T", " ") + " UTC" if ns else ""


class LoginRequiredError(Exception):
    """Raised when a page needs a session; the app redirects to /login."""


@dataclass(frozen=True, slots=True)
class WebUser:
    caller: Caller
    csrf: str

    @property
    def id(self) -> str:
        return self.caller.id

    def has(self, *roles: str) -> bool:
        return any(Role(r) in self.caller.principal.roles for r in roles)


def web_user(request: Request, ctx: Ctx) -> WebUser:
    cookie = request.cookies.get(SESSION_COOKIE)
    session = ctx.sessions.resolve(cookie) if cookie else None
    principal = ctx.controls.directory.get(session.principal) if session else None
    if session is None or principal is None:
        raise LoginRequiredError
    return WebUser(
        Caller(principal, client_ip(request), f"web:{session.session_ref}", session), session.csrf_token
    )


CurrentWebUser = Annotated[WebUser, Depends(web_user)]


async def require_csrf(request: Request, user: WebUser) -> None:
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    assert user.caller.web is not None
    if not csrf_matches(user.caller.web, presented):
        raise PermissionError("the form's CSRF token does not match this session; reload the page")


def page(
    request: Request, ctx: AppContext, user: WebUser | None, name: str, status: int = 200, **values: object
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"user": user, "firm": ctx.config.firm, **values}, status_code=status
    )


def refused_page(request: Request, ctx: AppContext, user: WebUser, exc: AccessDeniedError) -> HTMLResponse:
    """The refusal page (403) for what the case service refused, with its reason and message."""
    reason, message = exc.decision.reason.value, exc.decision.message
    return page(request, ctx, user, "refused.html", 403, reason=reason, message=message)


def allowed(request: Request, ctx: AppContext, user: WebUser, permission: Permission) -> HTMLResponse | None:
    """None if ``user`` may open the page; otherwise the refusal page (403), audited either way."""
    ok, reason, message, policy_ids = check_permission(ctx, user.caller, permission)
    audit_request(ctx, request, user.caller, permission, allowed=ok, reason=reason, policy_ids=policy_ids)
    if ok:
        return None
    return page(request, ctx, user, "refused.html", 403, reason=reason, message=message)
