"""Templates, the logged-in web user and the page permission check (same Cedar actions as the API)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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
from orderguard.auth.token_desk import Requester
from orderguard.cases.model import AccessDeniedError
from orderguard.domain import Role, format_ts

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


@pass_context
def firm_time(context: Context, ns: object) -> Markup | str:
    """A nanosecond UTC instant as the firm's wall-clock time with its zone ("2026-11-20 23:00:00 EST",
    as the alerts' sentences say "firm time"), the exact UTC instant in a tooltip."""
    if not ns:
        return ""
    instant = int(str(ns))
    zone = context.get("zone")
    local = dt.datetime.fromtimestamp(instant // 1_000_000_000, zone if isinstance(zone, tzinfo) else dt.UTC)
    utc = format_ts(instant)
    shown = local.strftime("%Y-%m-%d %H:%M:%S %Z")
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(utc, shown)


templates.env.filters["ts"] = firm_time


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

    @property
    def caller_requester(self) -> Requester:
        """The user as the token desk records a requester: id, IP and web session."""
        return Requester(self.caller.id, self.caller.ip, self.caller.session_id)


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


# Pages load only their own script and style sheet, cannot be framed (a one-click approve button
# under someone else's page), and are not kept in the browser's cache once someone is logged in.
# htmx adds one inline <style> for its request indicators, hence 'unsafe-inline' for styles only.
PAGE_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def nav_links(ctx: AppContext, user: WebUser) -> list[tuple[str, str]]:
    """The menu entries ``user`` may open (a link that only leads to a refusal is left out)."""
    from orderguard.api.routes.approvals import OPEN
    from orderguard.api.routes.audit import READ as READ_AUDIT
    from orderguard.api.routes.cases import READ as READ_CASES
    from orderguard.api.routes.controls import PRECLEAR
    from orderguard.api.routes.system import SELF
    from orderguard.web.order_pages import ORDER_ENTRY

    menu = (
        ("/orders", "Orders", ORDER_ENTRY),
        ("/approvals", "Approvals", OPEN),
        ("/preclearance", "Pre-clearance", PRECLEAR),
        ("/alerts", "Alerts", READ_CASES),
        ("/audit", "Audit log", READ_AUDIT),
        ("/policy", "Policy", READ_AUDIT),
        ("/tokens", "API tokens", SELF),
    )
    return [(href, label) for href, label, permission in menu if allowed_quiet(ctx, user, permission)]


def page(
    request: Request, ctx: AppContext, user: WebUser | None, name: str, status: int = 200, **values: object
) -> HTMLResponse:
    full_page = user is not None and not name.startswith("_")  # partials (htmx swaps) have no menu
    nav = nav_links(ctx, user) if full_page and user is not None else []
    response = templates.TemplateResponse(
        request,
        name,
        {"user": user, "firm": ctx.config.firm, "zone": ctx.config.business_hours.zone, "nav": nav, **values},
        status_code=status,
    )
    response.headers.update(PAGE_HEADERS)
    if user is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def refused_page(request: Request, ctx: AppContext, user: WebUser, exc: AccessDeniedError) -> HTMLResponse:
    """The refusal page (403) for what the case service refused, with its reason and message."""
    reason, message = exc.decision.reason.value, exc.decision.message
    return page(request, ctx, user, "refused.html", 403, reason=reason, message=message)


async def form_allowed(
    request: Request, ctx: AppContext, user: WebUser, permission: Permission
) -> HTMLResponse | None:
    """For a state-changing form: the session's CSRF token first, then ``allowed``."""
    await require_csrf(request, user)
    return allowed(request, ctx, user, permission)


def allowed_quiet(ctx: AppContext, user: WebUser, permission: Permission) -> bool:
    """Whether Cedar allows ``permission`` (to show or hide a part of a page; not audited)."""
    return check_permission(ctx, user.caller, permission)[0]


def allowed(request: Request, ctx: AppContext, user: WebUser, permission: Permission) -> HTMLResponse | None:
    """None if ``user`` may open the page; otherwise the refusal page (403), audited either way."""
    ok, reason, message, policy_ids = check_permission(ctx, user.caller, permission)
    audit_request(ctx, request, user.caller, permission, allowed=ok, reason=reason, policy_ids=policy_ids)
    if ok:
        return None
    return page(request, ctx, user, "refused.html", 403, reason=reason, message=message)
