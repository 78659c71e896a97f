"""GET /metrics in the Prometheus text format: requests by route and status, orders by outcome,
the audit log size and open alerts, as the operators' scrapers read them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context

ORDER = {"account": "C-PENSION-1", "symbol": "AAPL", "side": "buy", "qty": 10, "price": 100, "venue": "XNYS"}


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    yield context
    context.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class TestMetrics:
    def test_requests_orders_and_audit_size_are_counted(self, ctx: AppContext) -> None:
        """Two accepted orders, one venue refusal and one 401 show up by route, status and outcome,
        and the audit log size gauge equals the log's head."""
        alice = {"Authorization": f"Bearer {ctx.tokens.issue('alice')}"}
        with TestClient(create_app(ctx)) as client:
            for n, venue in enumerate(["XNYS", "XNYS", "DARK-X"]):
                order = {**ORDER, "order_id": f"M-{n}", "venue": venue}
                assert client.post("/api/v1/orders", json=order, headers=alice).status_code == 200
            assert client.get("/api/v1/alerts").status_code == 401
            response = client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        samples = _samples(response.text)
        orders_route = (("method", "POST"), ("route", "/api/v1/orders"), ("status", "200"))
        assert samples["orderguard_http_requests_total", orders_route] == 3
        refused_route = (("method", "GET"), ("route", "/api/v1/alerts"), ("status", "401"))
        assert samples["orderguard_http_requests_total", refused_route] == 1
        assert samples["orderguard_orders_total", (("outcome", "accepted"),)] == 2
        assert samples["orderguard_orders_total", (("outcome", "VENUE_NOT_APPROVED"),)] == 1
        assert samples["orderguard_audit_log_size", ()] == ctx.audit.head()[0]
        latency = (("le", "+Inf"), ("route", "/api/v1/orders"))
        assert samples["orderguard_http_request_seconds_bucket", latency] == 3
