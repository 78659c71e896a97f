"""The compliance web UI: server-rendered Jinja2 pages with htmx (vendored in static/), no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    from fastapi import Request
    from fastapi.responses import PlainTextResponse, RedirectResponse, Response

    from orderguard.web import (
        audit_pages,
        case_export,
        order_pages,
        pages,
        preclearance_pages,
        response_pages,
        session_pages,
        token_pages,
    )
    from orderguard.web.render import LoginRequiredError

    async def to_login(request: Request, _exc: Exception) -> Response:
        if request.headers.get("hx-request") == "true":
            # An htmx swap would follow a redirect and put the login form inside the page's table:
            # have htmx load the login page as a whole instead.
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    async def csrf_refused(_request: Request, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), status_code=403)

    app.add_exception_handler(LoginRequiredError, to_login)
    app.add_exception_handler(PermissionError, csrf_refused)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(session_pages.router)
    app.include_router(token_pages.router)
    app.include_router(response_pages.router)  # before pages: /cases/{id}/{change} would take /block
    app.include_router(case_export.router)  # and /export
    app.include_router(pages.router)
    app.include_router(audit_pages.router)
    app.include_router(order_pages.router)
    app.include_router(preclearance_pages.router)
