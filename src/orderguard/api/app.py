"""The FastAPI app factory: API routers, the web UI, error handling and metrics for one context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderguard import __version__
from orderguard.api.errors import ApiError, api_error_handler, http_error_handler
from orderguard.app import AppContext

DESCRIPTION = """orderguard's HTTP API: order entry through the controls, approvals (four-eyes),
pre-clearance, role grants, break-glass, alerts, cases and responses, the tamper-evident audit log,
event ingestion, health and Prometheus metrics.

Authenticate with `Authorization: Bearer <API token>` (or an OIDC JWT when configured). Each route
names its permission in `x-orderguard-permission`: a Cedar action, or the stage service that decides.
Errors are `{"error": {"code", "message"}}`. See docs/api.md."""


# Order entry blocks a worker thread until its audit entry is durable (group commit): the more
# orders wait together, the more share one commit. anyio's default of 40 threads caps that.
WORKER_THREADS = 256


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def create_app(ctx: AppContext, *, web: bool = True) -> FastAPI:
    from orderguard.api import metrics
    from orderguard.api.routes import (
        approvals,
        audit,
        case_actions,
        cases,
        controls,
        events,
        orders,
        surveillance,
        system,
    )

    app = FastAPI(title="orderguard", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    app.state.ctx = ctx
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_middleware(metrics.MetricsMiddleware, ctx=ctx)
    for module in (system, events, surveillance, orders, approvals, controls, cases, case_actions, audit):
        app.include_router(module.router)
    if web:
        from orderguard.web import mount_web

        mount_web(app)
    return app
