"""Red team, four-eyes: insiders try to get a large order through without a real second person.

Every attempt goes through the HTTP API (or the web UI) with real tokens and sessions on a real
SQLite file, and must be refused with its reason code and recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderguard.approvals.model import Origin
from orderguard.config import FirmConfig
from orderguard.domain import Side
from tests.functional.redteam_world import (
    BIG,
    World,
    approve,
    open_large_order,
    red_team_world,
    submit,
)
from tests.functional.web.support import csrf_of


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the module (each test uses its own order ids)."""
    tmp = tmp_path_factory.mktemp("redteam-approvals")
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


@pytest.fixture
def big(world: World) -> dict[str, Any]:
    """A large order (2,000,000 notional) by alice with an order id of its own."""
    return world.fresh(BIG)


def approved(world: World, order: dict[str, Any]) -> str:
    """Alice asks for approval of ``order`` and olga approves it: the request id."""
    request_id, digest = open_large_order(world, "alice", order)
    assert approve(world, "olga", request_id, digest)["decision"]["allowed"]
    return request_id


def refused_order_entry(world: World, order_id: str, reason: str) -> dict[str, Any]:
    """The audit entry of the refused order, which must name actor, IP and credential."""
    found = world.entries("order", object_id=order_id, decision="deny", reason_code=reason)
    assert found, f"no refused audit entry for {order_id} with {reason}"
    entry = found[-1]
    assert entry["ip"], entry
    assert entry["session_id"].startswith("token:"), entry
    return entry


CHANGES = [
    ("a bigger quantity", {"qty": 90_000}),
    ("a better price", {"price": 99.5}),
    ("another symbol", {"symbol": "MSFT"}),
    ("another client account", {"account": "C-HEDGE-1"}),
    ("another venue", {"venue": "XNAS"}),
    ("the other side", {"side": "sell"}),
]


class TestApprovalBinding:
    @pytest.mark.parametrize(("name", "change"), CHANGES, ids=[c[0] for c in CHANGES])
    def test_an_approved_order_changed_before_entry_is_refused_as_stale(
        self, world: World, big: dict[str, Any], name: str, change: dict[str, object]
    ) -> None:
        """Entering the approved order id with any economic field changed is APPROVAL_STALE, audited."""
        request_id = approved(world, big)
        result = submit(world, "alice", {**big, **change, "approval_request_id": request_id})
        assert not result["accepted"], name
        assert result["decision"]["reason_code"] == "APPROVAL_STALE"
        assert refused_order_entry(world, big["order_id"], "APPROVAL_STALE")["actor"] == "alice"

    def test_an_approval_is_not_carried_over_to_another_order_id(
        self, world: World, big: dict[str, Any]
    ) -> None:
        """The same approval id on a new order id with identical fields is APPROVAL_REPLAYED."""
        request_id = approved(world, big)
        other = world.fresh(BIG, approval_request_id=request_id)
        assert submit(world, "alice", other)["decision"]["reason_code"] == "APPROVAL_REPLAYED"
        refused_order_entry(world, other["order_id"], "APPROVAL_REPLAYED")

    def test_a_spent_approval_buys_one_order_only(self, world: World, big: dict[str, Any]) -> None:
        """After the approved order went, its id and its approval are both spent."""
        request_id = approved(world, big)
        assert submit(world, "alice", {**big, "approval_request_id": request_id})["accepted"]
        again = submit(world, "alice", {**big, "approval_request_id": request_id})
        assert again["decision"]["reason_code"] == "REPLAYED"
        other = world.fresh(BIG, approval_request_id=request_id)
        assert submit(world, "alice", other)["decision"]["reason_code"] == "APPROVAL_REPLAYED"
        refused_order_entry(world, big["order_id"], "REPLAYED")
        refused_order_entry(world, other["order_id"], "APPROVAL_REPLAYED")

    def test_a_desk_colleague_cannot_enter_an_order_under_someone_elses_approval(
        self, world: World, big: dict[str, Any]
    ) -> None:
        """Bob enters alice's approved order id first: the approval names alice, so it is stale for bob."""
        request_id = approved(world, big)
        result = submit(world, "bob", {**big, "approval_request_id": request_id})
        assert result["decision"]["reason_code"] == "APPROVAL_STALE"
        assert refused_order_entry(world, big["order_id"], "APPROVAL_STALE")["actor"] == "bob"

    def test_an_approval_past_its_lifetime_is_refused(
        self, world: World, big: dict[str, Any], firm: FirmConfig
    ) -> None:
        """An approval older than approval_ttl_seconds no longer lets the order go (APPROVAL_EXPIRED)."""
        request_id = approved(world, big)
        world.clock.advance(firm.controls.approval_ttl_seconds)
        result = submit(world, "alice", {**big, "approval_request_id": request_id})
        assert result["decision"]["reason_code"] == "APPROVAL_EXPIRED"
        refused_order_entry(world, big["order_id"], "APPROVAL_EXPIRED")

    def test_a_large_order_without_any_approval_is_refused(self, world: World, big: dict[str, Any]) -> None:
        """No request at all: APPROVAL_REQUIRED, and nothing is executed."""
        result = submit(world, "alice", big)
        assert result["decision"]["reason_code"] == "APPROVAL_REQUIRED"
        assert result["executions"] == 0
        refused_order_entry(world, big["order_id"], "APPROVAL_REQUIRED")


class TestSelfApproval:
    def test_an_approver_cannot_approve_a_request_they_opened(
        self, world: World, big: dict[str, Any]
    ) -> None:
        """Carol (an order approver) opens a request and approves it herself: SOD_SELF_APPROVAL, audited."""
        request_id, digest = open_large_order(world, "carol", big)
        body = approve(world, "carol", request_id, digest)
        assert body["decision"]["reason_code"] == "SOD_SELF_APPROVAL"
        assert body["request"]["approvers"] == []
        assert world.entries(
            "approval", object_id=request_id, actor="carol", reason_code="SOD_SELF_APPROVAL", decision="deny"
        )

    def test_a_trader_cannot_vote_at_all(self, world: World, big: dict[str, Any]) -> None:
        """Alice approving her own request is stopped at the route (403), audited with IP and token."""
        request_id, digest = open_large_order(world, "alice", big)
        response = world.client.post(
            f"/api/v1/approvals/{request_id}/approve", json={"digest": digest}, headers=world.tokens["alice"]
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "NOT_AUTHORIZED"
        path = f"POST /api/v1/approvals/{request_id}/approve"
        refused = world.entries("api_request", actor="alice", object_id=path, decision="deny")
        assert len(refused) == 1
        assert refused[0]["ip"]
        assert refused[0]["session_id"].startswith("token:")

    def test_one_person_through_a_token_and_a_web_session_counts_once(
        self, world: World, big: dict[str, Any]
    ) -> None:
        """Olga approves by API token, then again in the web UI: APPROVAL_DUPLICATE_APPROVER, one approver."""
        request_id, digest = open_large_order(world, "alice", big)
        assert approve(world, "olga", request_id, digest)["decision"]["allowed"]
        browser = world.browser("olga")
        csrf = csrf_of(browser.get("/approvals").text)
        page = browser.post(
            f"/approvals/{request_id}/approve",
            data={"digest": digest, "csrf_token": csrf},
            headers={"X-CSRF-Token": csrf},
        )
        assert page.status_code == 200
        assert "APPROVAL_DUPLICATE_APPROVER" in page.text
        request = world.ctx.controls.approvals.store.get(request_id)
        assert request is not None
        assert request.current_approvers() == frozenset({"olga"})
        assert world.entries("approval", object_id=request_id, reason_code="APPROVAL_DUPLICATE_APPROVER")

    def test_a_vote_for_another_digest_does_not_count(self, world: World, big: dict[str, Any]) -> None:
        """A vote carrying a digest other than the request's is APPROVAL_STALE and counts for nothing."""
        request_id, _ = open_large_order(world, "alice", big)
        body = approve(world, "olga", request_id, "0" * 64)
        assert body["decision"]["reason_code"] == "APPROVAL_STALE"
        assert body["request"]["approvers"] == []
        assert world.entries("approval", object_id=request_id, reason_code="APPROVAL_STALE")


class TestRefusalOrigin:
    def test_engine_refusals_name_the_callers_ip_and_credential_when_given(
        self, world: World, big: dict[str, Any]
    ) -> None:
        """A self-approval, a break-glass without reason and a refused pre-clearance, each given the
        caller's origin, are audited with that IP and credential (the interfaces pass ``origin``)."""
        origin = Origin("10.9.8.7", "token:feedbeef")
        controls = world.ctx.controls
        request_id, digest = open_large_order(world, "carol", big)
        now = world.clock()
        assert not controls.approvals.approve(request_id, "carol", digest, now, origin=origin).allowed
        assert not controls.break_glass.invoke(request_id, "carol", "", now, origin=origin).allowed
        decision, _ = controls.preclearance.request(
            "dana", "PA-alice", symbol="IBM", side=Side.BUY, qty=1, now=now, origin=origin
        )
        assert not decision.allowed
        refusals = [
            *world.entries("approval", object_id=request_id, decision="deny"),
            *world.entries("preclearance", actor="dana", decision="deny", reason_code="NOT_AUTHORIZED"),
        ]
        assert {e["reason_code"] for e in refusals} == {
            "SOD_SELF_APPROVAL",
            "BREAK_GLASS_NO_REASON",
            "NOT_AUTHORIZED",
        }
        assert {(e["ip"], e["session_id"]) for e in refusals} == {("10.9.8.7", "token:feedbeef")}
