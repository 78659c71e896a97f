"""A short lane for plain order entry: ``POST /api/v1/orders`` without FastAPI's per-request work.

Measured on this machine (benchmarks/api_floor.py), a FastAPI route with the order's body model
and a header dependency costs ~0.2 ms of CPU per request before doing anything, a bare ASGI
callable validating the same body with the same model ~0.05 ms; under sustained order entry the
server is one interpreter, so that difference is throughput. This middleware answers the plain
case itself and hands everything else to the app unchanged:

* the request must be ``POST /api/v1/orders`` with no query string, ``Content-Type:
  application/json``, a ``Content-Length`` and an API token the token service checked in the last
  seconds (``deps.remembered_caller``: no I/O);
* the body must validate as ``OrderIn`` (the route's own model, in JSON mode).

Then it runs exactly what the route runs (``routes.orders.enter_order``: the desk, the metrics,
the same answer). If any condition fails, the app gets the request as it came (the body already
read is replayed), so refusals, 401s, 422s and their wording are the app's own. It sits inside
the metrics middleware (so every request is counted and timed under the route's path) and inside
FastAPI's server-error and body-limit middleware.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderguard.api.deps import remembered_caller
from orderguard.api.routes.orders import enter_order, router
from orderguard.api.schemas import OrderIn
from orderguard.app import AppContext

PATH = "/api/v1/orders"
MAX_BODY = 16 * 1024  # an order is ~150 bytes; anything larger takes the app's path (and its limits)


class OrderEntryLane:
    """ASGI middleware: plain order entry answered directly, anything else passed to ``app``."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._route: APIRoute | None = None
        self.answered = 0  # orders this lane answered itself (the rest went through the app)
        api.state.order_lane = self  # found by tests and benchmarks (built when the app first runs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        authorization = content_type = length = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
        ctx: AppContext = self.api.state.ctx
        client = scope.get("client")
        caller = (
            remembered_caller(ctx, authorization.decode("latin-1"), client[0] if client else None)
            if authorization is not None
            and content_type == b"application/json"
            and length is not None
            and length.isdigit()
            and int(length) <= MAX_BODY
            else None
        )
        if caller is None:
            await self.app(scope, receive, send)
            return
        body, disconnected = await _read_body(receive)
        order = None
        if not disconnected:
            try:
                order = OrderIn.model_validate_json(body)
            except ValidationError:
                order = None
        if order is None:
            await self.app(scope, _replaying(body, disconnected, receive), send)
            return
        scope["route"] = self._order_route()  # what the metrics middleware labels the request with
        self.answered += 1
        response = await enter_order(ctx, order, caller)
        await response(scope, receive, send)

    def _order_route(self) -> APIRoute | None:
        if self._route is None:
            self._route = next(
                (
                    r
                    for r in router.routes
                    if isinstance(r, APIRoute) and r.path == PATH and r.methods == {"POST"}
                ),
                None,
            )
        return self._route


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client went away before sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replaying(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    """``receive`` for the app: the body already read (or the disconnect), then the client's own."""
    first: list[Message] = [
        {"type": "http.disconnect"}
        if disconnected
        else {"type": "http.request", "body": body, "more_body": False}
    ]

    async def replay() -> Message:
        return first.pop() if first else await receive()

    return replay
