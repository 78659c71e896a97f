"""Refusals of approvals, pre-clearance and break-glass through the API record the caller's IP and
credential; a non-finite number in a JSON body is a 422 in the project's error shape, not a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderguard.config import FirmConfig
from tests.functional.redteam_world import BIG, ORDER, World, approve, open_large_order, red_team_world

REASON = {"reason": "venue outage: the desk must flatten before the close"}


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the module (each test uses its own order ids)."""
    tmp = tmp_path_factory.mktemp("caller-origin")
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


def assert_from_the_caller(entry: dict[str, Any]) -> None:
    assert entry["ip"] == "testclient"
    assert str(entry["session_id"]).startswith("token:")


class TestRefusalsCarryTheOrigin:
    def test_a_refused_approval_records_ip_and_session(self, world: World) -> None:
        """olga approving alice's large order at a digest it never had is refused by the engine; the
        refusal's audit entry (and the request's) carry the caller's IP and token."""
        request_id, _ = open_large_order(world, "alice", world.fresh(BIG))
        assert not approve(world, "olga", request_id, "0" * 64)["decision"]["allowed"]
        refused = world.entries("approval", object_id=request_id, action="refused", actor="olga")
        assert len(refused) == 1
        assert_from_the_caller(refused[0])
        opened = world.entries("approval", object_id=request_id, action="requested")
        assert_from_the_caller(opened[0])

    def test_a_refused_reject_records_ip_and_session(self, world: World) -> None:
        """olga rejecting alice's request a second time (it has ended) is refused with her IP and token."""
        request_id, digest = open_large_order(world, "alice", world.fresh(BIG))
        first = world.client.post(
            f"/api/v1/approvals/{request_id}/reject", json={"digest": digest}, headers=world.tokens["olga"]
        )
        assert first.json()["request"]["status"] == "rejected", first.text
        wrong = world.client.post(
            f"/api/v1/approvals/{request_id}/reject", json={"digest": digest}, headers=world.tokens["olga"]
        )
        assert not wrong.json()["decision"]["allowed"]
        refused = world.entries("approval", object_id=request_id, action="refused", actor="olga")
        assert refused
        assert_from_the_caller(refused[-1])

    def test_a_refused_preclearance_records_ip_and_session(self, world: World) -> None:
        """tom asking to trade in alice's personal account is refused; the entry has his IP and token."""
        response = world.client.post(
            "/api/v1/preclearance",
            json={"account": "PA-alice", "symbol": "IBM", "side": "buy", "qty": 5},
            headers=world.tokens["tom"],
        )
        assert not response.json()["decision"]["allowed"], response.text
        entries = world.entries("preclearance", actor="tom")
        assert entries
        assert_from_the_caller(entries[-1])

    def test_a_refused_break_glass_records_ip_and_session(self, world: World) -> None:
        """chris breaking the glass on his own role-grant proposal is refused (break-glass does not
        apply to grants); the refusal's entry has his IP and token."""
        proposed = world.client.post(
            "/api/v1/roles/grants",
            json={"target": "carol", "role": "role_admin"},
            headers=world.tokens["chris"],
        )
        request_id = proposed.json()["request"]["request_id"]
        response = world.client.post(
            f"/api/v1/break-glass/{request_id}", json=REASON, headers=world.tokens["chris"]
        )
        assert response.json()["decision"]["reason_code"] == "NOT_AUTHORIZED", response.text
        refused = world.entries("approval", object_id=request_id, actor="chris", decision="deny")
        assert refused
        assert_from_the_caller(refused[-1])


class TestNonFiniteNumbers:
    @pytest.mark.parametrize("number", ["NaN", "1e400", "-Infinity"])
    def test_a_non_finite_qty_is_a_422_naming_the_field(self, world: World, number: str) -> None:
        """A raw non-finite number in the order body is a 422 with detail[].loc/msg/type and the error
        object; the input is not echoed and nothing is written."""
        order = world.fresh(ORDER)
        body = (
            f'{{"order_id": "{order["order_id"]}", "account": "C-PENSION-1", "symbol": "AAPL", '
            f'"side": "buy", "qty": {number}, "price": 100, "venue": "XNYS"}}'
        )
        before = world.audit_size()
        response = world.client.post(
            "/api/v1/orders",
            content=body,
            headers={**world.tokens["alice"], "content-type": "application/json"},
        )
        assert response.status_code == 422, response.text
        answer = response.json()
        assert answer["error"]["code"] == "INVALID_REQUEST"
        assert "body.qty" in answer["error"]["message"]
        assert [e["loc"] for e in answer["detail"]] == [["body", "qty"]]
        assert set(answer["detail"][0]) == {"loc", "msg", "type"}
        assert "input" not in response.text
        assert world.audit_size() == before
        assert world.ctx.book.get(order["order_id"]) is None

    def test_other_validation_errors_keep_the_same_shape(self, world: World) -> None:
        """A missing field is a 422 in the same shape, naming the field."""
        order = {k: v for k, v in world.fresh(ORDER).items() if k != "venue"}
        response = world.client.post("/api/v1/orders", json=order, headers=world.tokens["alice"])
        assert response.status_code == 422
        answer = response.json()
        assert answer["error"]["code"] == "INVALID_REQUEST"
        assert ["body", "venue"] in [e["loc"] for e in answer["detail"]]
