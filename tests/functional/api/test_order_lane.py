"""The order-entry lane: plain orders answered without FastAPI's per-request work, the same answers;
everything else (unknown tokens, bad bodies, other content types) answered by the app as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def _answered(client: TestClient) -> int:
    lane: Any = client.app.state.order_lane  # type: ignore[attr-defined]
    return int(lane.answered)


class TestOrderLane:
    def test_plain_orders_are_answered_by_the_lane_as_the_route_answers(self, ctx: AppContext) -> None:
        """Once the token is remembered, orders take the lane, with the route's answer and audit index."""
        alice = {"Authorization": f"Bearer {ctx.tokens.issue('alice')}"}
        with TestClient(create_app(ctx)) as client:
            first = client.post("/api/v1/orders", json={**ORDER, "order_id": "LANE-1"}, headers=alice)
            assert _answered(client) == 0  # the token's first check reads the database: the app's path
            second = client.post("/api/v1/orders", json={**ORDER, "order_id": "LANE-2"}, headers=alice)
            assert _answered(client) == 1
        assert (first.status_code, second.status_code) == (200, 200)
        assert second.headers["content-type"] == "application/json"
        one, two = first.json(), second.json()
        assert (
            set(one)
            == set(two)
            == {"order_id", "accepted", "decision", "audit_index", "executions", "alerts"}
        )
        assert (one["accepted"], two["accepted"]) == (True, True)
        assert two["order_id"] == "LANE-2"
        assert two["decision"]["reason_code"] == one["decision"]["reason_code"]
        assert two["audit_index"] > one["audit_index"]
        assert ctx.orders.book.get("LANE-2").status in ("executed", "partially executed")  # type: ignore[union-attr]

    def test_a_repeated_order_id_is_refused_on_the_lane(self, ctx: AppContext) -> None:
        """The lane enters orders through the same desk: an order id entered twice is refused."""
        alice = {"Authorization": f"Bearer {ctx.tokens.issue('alice')}"}
        with TestClient(create_app(ctx)) as client:
            client.post("/api/v1/orders", json={**ORDER, "order_id": "WARM"}, headers=alice)
            client.post("/api/v1/orders", json={**ORDER, "order_id": "TWICE"}, headers=alice)
            again = client.post("/api/v1/orders", json={**ORDER, "order_id": "TWICE"}, headers=alice)
            assert _answered(client) == 2
        assert again.status_code == 200
        assert again.json()["accepted"] is False
        assert again.json()["decision"]["reason_code"] == "REPLAYED"

    def test_a_body_the_model_refuses_gets_the_apps_422(self, ctx: AppContext) -> None:
        """An invalid body read by the lane is replayed to the app, which answers its usual 422."""
        alice = {"Authorization": f"Bearer {ctx.tokens.issue('alice')}"}
        with TestClient(create_app(ctx)) as client:
            client.post("/api/v1/orders", json={**ORDER, "order_id": "WARM"}, headers=alice)
            answers = [
                client.post("/api/v1/orders", json={**ORDER, "order_id": "BAD-1", "qty": -5}, headers=alice),
                client.post("/api/v1/orders", json={**ORDER, "order_id": "BAD-2", "extra": 1}, headers=alice),
                client.post("/api/v1/orders", content=b'{"order_id": "BAD-3", "qty": ', headers=alice),
            ]
            assert _answered(client) == 0
        for answer in answers:
            assert answer.status_code == 422
            assert "error" in answer.json()
        assert ctx.orders.book.get("BAD-1") is None

    def test_unknown_or_revoked_tokens_get_the_apps_401(self, ctx: AppContext) -> None:
        """A token the service does not remember goes through the app's authentication: revoked is 401."""
        token = ctx.tokens.issue("alice")
        alice = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(ctx)) as client:
            client.post("/api/v1/orders", json={**ORDER, "order_id": "WARM"}, headers=alice)
            ctx.tokens.revoke(token.split("_")[1])
            revoked = client.post("/api/v1/orders", json={**ORDER, "order_id": "R-1"}, headers=alice)
            forged = client.post(
                "/api/v1/orders",
                json={**ORDER, "order_id": "R-2"},
                headers={"Authorization": "Bearer og_x_y"},
            )
            assert _answered(client) == 0
        assert (revoked.status_code, forged.status_code) == (401, 401)
        assert ctx.orders.book.get("R-1") is None

    def test_other_content_types_and_query_strings_take_the_app(self, ctx: AppContext) -> None:
        """Only the plain request shape takes the lane; a charset parameter or a query string does not."""
        alice = {"Authorization": f"Bearer {ctx.tokens.issue('alice')}"}
        with TestClient(create_app(ctx)) as client:
            client.post("/api/v1/orders", json={**ORDER, "order_id": "WARM"}, headers=alice)
            body = json.dumps({**ORDER, "order_id": "C-1"}).encode()
            charset = client.post(
                "/api/v1/orders",
                content=body,
                headers={**alice, "Content-Type": "application/json; charset=utf-8"},
            )
            query = client.post("/api/v1/orders?x=1", json={**ORDER, "order_id": "C-2"}, headers=alice)
            assert _answered(client) == 0
        assert (charset.status_code, query.status_code) == (200, 200)
        assert charset.json()["accepted"] is True
        assert query.json()["accepted"] is True
