"""Prometheus metrics, one registry per app context (tests build many apps in one process)."""

from __future__ import annotations

import time
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderguard.app import AppContext
from orderguard.cases.listing import OPEN_STATUSES, AlertFilter

_REGISTRIES: weakref.WeakKeyDictionary[AppContext, ApiMetrics] = weakref.WeakKeyDictionary()


class ApiMetrics:
    def __init__(self, ctx: AppContext) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "orderguard_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "orderguard_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.orders = Counter("orderguard_orders", "orders by outcome", ["outcome"], registry=self.registry)
        # Labelled children by label values: ``labels()`` validates and locks on every call, and
        # order entry asks for three per request.
        self._children: dict[tuple[str, ...], Any] = {}
        audit_size = Gauge("orderguard_audit_log_size", "entries in the audit log", registry=self.registry)
        audit_size.set_function(lambda: float(ctx.audit.head()[0]))
        store = ctx.cases.store
        open_alerts = Gauge("orderguard_open_alerts", "alerts not closed", registry=self.registry)
        still_open = AlertFilter(statuses=OPEN_STATUSES)  # counted in SQL, not read alert by alert
        open_alerts.set_function(lambda: float(store.listing.count_alerts(still_open)))
        if ctx.live is not None:
            from orderguard.api.live_metrics import LiveSurveillanceCollector

            self.registry.register(LiveSurveillanceCollector(ctx.live))

    def count_order(self, outcome: str) -> None:
        self._child(self.orders, "orders", outcome).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._child(self.latency, "latency", route).observe(seconds)
        self._child(self.requests, "requests", method, route, str(status)).inc()

    def _child(self, metric: Any, name: str, *values: str) -> Any:
        key = (name, *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child


def metrics_of(ctx: AppContext) -> ApiMetrics:
    found = _REGISTRIES.get(ctx)
    if found is None:
        found = _REGISTRIES[ctx] = ApiMetrics(ctx)
    return found


def registry_of(ctx: AppContext) -> CollectorRegistry:
    return metrics_of(ctx).registry


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.metrics = metrics_of(ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.observe_request(scope["method"], name, status[0], time.perf_counter() - started)
