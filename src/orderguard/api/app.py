"""The FastAPI app factory: API routers, the web UI, error handling and metrics for one context."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderguard import __version__
from orderguard.api.errors import ApiError, api_error_handler, http_error_handler, validation_error_handler
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
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    # Orders, fills and cancels are queued on the event loop; a thread stores them (no I/O per order).
    app.state.ctx.event_sink.start()
    if app.state.ctx.live is not None:
        app.state.ctx.live.start()  # live surveillance: its own thread reads what the store holds
    if app.state.own_process:
        # Everything built at start-up (framework, policies, config) lives as long as the process:
        # moved out of the collector's view, a full collection no longer rescans it. Under
        # sustained order entry such a collection paused every request for ~100 ms.
        gc.collect()
        gc.freeze()
        gc.callbacks.append(_freeze_survivors)
    yield
    if _freeze_survivors in gc.callbacks:
        gc.callbacks.remove(_freeze_survivors)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """After a full collection, move its survivors out of the collector's view too.

    Every order stays in the in-memory book, so the heap grows all day; measured under sustained
    order entry, full collections came every ~0.7 s, each walking the whole heap for 130-150 ms
    and freeing nothing. Frozen survivors are never walked again, so each full collection only
    walks what was allocated since the last one. The price: a reference cycle among frozen objects
    that later becomes garbage is not reclaimed (objects without cycles are still freed at once by
    reference counting).
    """
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def create_app(ctx: AppContext, *, web: bool = True, own_process: bool = False) -> FastAPI:
    """The app for ``ctx``; ``own_process`` when it is the server process's only app (``serve``),
    which then tunes the process for it (garbage collector) at start-up."""
    from orderguard.api import metrics
    from orderguard.api.order_lane import OrderEntryLane
    from orderguard.api.routes import (
        approvals,
        audit,
        case_actions,
        cases,
        controls,
        events,
        orders,
        reference_prices,
        surveillance,
        system,
    )

    app = FastAPI(title="orderguard", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    app.state.ctx = ctx
    app.state.own_process = own_process
    app.state.token_checks = {}  # API token checks in flight, shared by concurrent requests (deps)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # Plain order entry skips FastAPI's per-request work (api.order_lane); added first, so it runs
    # inside the metrics middleware.
    app.add_middleware(OrderEntryLane, api=app)
    app.add_middleware(metrics.MetricsMiddleware, ctx=ctx)
    # Order entry first: routes are matched in order, and it is the route under sustained load.
    for module in (orders, system, events, surveillance, approvals, controls, cases, case_actions, audit):
        app.include_router(module.router)
    app.include_router(reference_prices.router)  # the market-data feed (docs/controls.md)
    if web:
        from orderguard.web import mount_web

        mount_web(app)
    return app
