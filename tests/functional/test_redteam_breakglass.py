"""Red team, break-glass and role grants: one insider tries to act alone where two people must.

Before this suite, break-glass lifted the quorum of ANY request: a role admin could grant a
colluder a role, an admin open a route to an unvetted venue, and one compliance officer erase an
audit payload, each alone. Break-glass now covers large orders, deploys and key operations only.
Runs through the HTTP API (the venue proposal through the controls in process) on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderguard.approvals.model import SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import Role
from tests.functional.redteam_world import BIG, World, backend_url, open_large_order, red_team_world, submit

REASON = {"reason": "exchange outage, the hedge cannot wait"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One world per backend for the module (each test uses its own objects)."""
    tmp = tmp_path_factory.mktemp("redteam-breakglass")
    with red_team_world(firm, backend_url(request, tmp), tmp) as w:
        yield w


def break_glass(world: World, who: str, request_id: str) -> dict[str, Any]:
    response = world.client.post(f"/api/v1/break-glass/{request_id}", json=REASON, headers=world.tokens[who])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused_break_glass(world: World, who: str, request_id: str) -> None:
    """Break-glass on ``request_id`` is refused (NOT_AUTHORIZED), audited, and no grant is stored."""
    body = break_glass(world, who, request_id)
    assert body["decision"]["reason_code"] == "NOT_AUTHORIZED"
    assert "does not apply" in body["decision"]["message"]
    assert body["request"]["break_glass"] is False
    assert world.entries(
        "approval", object_id=request_id, actor=who, decision="deny", reason_code="NOT_AUTHORIZED"
    )
    assert not world.entries("approval", object_id=request_id, action="break_glass")


class TestBreakGlassScope:
    def test_a_role_grant_to_a_colluder_cannot_be_forced_through(self, world: World) -> None:
        """Chris proposes role_admin for carol and breaks the glass: refused; applying still needs a vote."""
        proposed = world.client.post(
            "/api/v1/roles/grants",
            json={"target": "carol", "role": "role_admin"},
            headers=world.tokens["chris"],
        ).json()
        request_id = proposed["request"]["request_id"]
        refused_break_glass(world, "chris", request_id)
        applied = world.client.post(
            f"/api/v1/roles/grants/{request_id}/apply",
            json={"target": "carol", "role": "role_admin"},
            headers=world.tokens["chris"],
        ).json()
        assert applied["decision"]["reason_code"] == "APPROVAL_REQUIRED"
        carol = world.ctx.controls.directory.get("carol")
        assert carol is not None
        assert Role.ROLE_ADMIN not in carol.roles

    def test_an_admin_cannot_force_an_unvetted_venue_onto_the_allowlist(self, world: World) -> None:
        """Adam proposes DARK-X and breaks the glass: refused; orders to DARK-X stay blocked."""
        controls = world.ctx.controls
        _, request = controls.venues.propose(controls.approvals, "adam", "DARK-X", True, world.clock())
        assert request is not None
        refused_break_glass(world, "adam", request.id)
        decision = controls.venues.apply(
            controls.approvals, request.id, actor="adam", venue="DARK-X", approve=True, now=world.clock()
        )
        assert decision.reason.value == "APPROVAL_REQUIRED"
        assert "DARK-X" not in controls.venues
        order = world.fresh({**BIG, "qty": 10, "symbol": "IBM", "venue": "DARK-X"})
        assert submit(world, "tom", {**order, "account": "C-FAMILY-1"})["decision"]["reason_code"] == (
            "VENUE_NOT_APPROVED"
        )

    def test_one_compliance_officer_cannot_erase_an_audit_payload_alone(self, world: World) -> None:
        """Carol asks to erase entry 0 and breaks the glass: refused; the erase needs its two approvals."""
        body = {"reason": "court order 2026-117"}
        opened = world.client.post(
            "/api/v1/audit/entries/0/erasure-request", json=body, headers=world.tokens["carol"]
        )
        assert opened.status_code == 201, opened.text
        request_id = opened.json()["request"]["request_id"]
        refused_break_glass(world, "carol", request_id)
        erased = world.client.post(
            "/api/v1/audit/entries/0/erase",
            json={**body, "approval_id": request_id},
            headers=world.tokens["carol"],
        )
        assert erased.status_code == 403
        assert erased.json()["error"]["code"] == "APPROVAL_REQUIRED"

    def test_a_withdrawal_cannot_skip_its_approver(self, world: World) -> None:
        """Walt opens a withdrawal in process and breaks the glass through the API: refused."""
        engine = world.ctx.controls.approvals
        _, request = engine.open(
            SensitiveAction.WITHDRAWAL, "W-7", "walt", {"amount": 9_000_000}, world.clock()
        )
        assert request is not None
        refused_break_glass(world, "walt", request.id)

    def test_a_large_order_still_breaks_the_glass_loudly_and_briefly(
        self, world: World, firm: FirmConfig
    ) -> None:
        """The emergency path stays: allowed, audited, security notified, alerted; gone after its TTL."""
        first, second = world.fresh(BIG), world.fresh(BIG)
        for order in (first, second):
            request_id, _ = open_large_order(world, "alice", order)
            assert break_glass(world, "alice", request_id)["decision"]["allowed"]
            assert world.entries("approval", object_id=request_id, action="break_glass", actor="alice")
            order["approval_request_id"] = request_id
        assert any(n.recipient == "sofia" for n in world.ctx.notifications.items)
        alerts = world.client.get("/api/v1/alerts", headers=world.tokens["carol"]).json()
        assert any(a["rule"] == "break_glass" and a["actor"] == "alice" for a in alerts)
        assert submit(world, "alice", first)["accepted"]
        world.clock.advance(firm.controls.break_glass_ttl_seconds)
        late = submit(world, "alice", second)
        assert late["decision"]["reason_code"] == "APPROVAL_REQUIRED"

    def test_only_the_initiator_breaks_the_glass_and_never_reviews_it(self, world: World) -> None:
        """Bob cannot break the glass on alice's request; alice cannot close the review of her own."""
        order = world.fresh(BIG)
        request_id, _ = open_large_order(world, "alice", order)
        assert break_glass(world, "bob", request_id)["decision"]["reason_code"] == "NOT_AUTHORIZED"
        assert break_glass(world, "alice", request_id)["decision"]["allowed"]
        review = world.client.post(
            f"/api/v1/break-glass/{request_id}/review", json={"note": "fine"}, headers=world.tokens["alice"]
        )
        assert review.status_code == 403  # alice is no reviewer at all (Cedar)
        assert world.entries(
            "api_request",
            actor="alice",
            decision="deny",
            object_id=f"POST /api/v1/break-glass/{request_id}/review",
        )

    def test_a_broken_glass_does_not_stretch_to_a_bigger_order(self, world: World) -> None:
        """After breaking the glass on 20,000 shares, the initiator cannot change the request to 90,000
        (in process: no interface modifies requests); the 90,000 order is refused."""
        order = world.fresh(BIG)
        request_id, _ = open_large_order(world, "alice", order)
        assert break_glass(world, "alice", request_id)["decision"]["allowed"]
        engine = world.ctx.controls.approvals
        request = engine.store.get(request_id)
        assert request is not None
        bigger = {**request.content, "qty": 90_000.0}
        decision = engine.modify(request_id, "alice", bigger, world.clock())
        assert decision.reason.value == "NOT_AUTHORIZED"
        assert world.entries("approval", object_id=request_id, action="refused", reason_code="NOT_AUTHORIZED")
        result = submit(world, "alice", {**order, "qty": 90_000, "approval_request_id": request_id})
        assert result["decision"]["reason_code"] == "APPROVAL_STALE"


class TestRoleGrants:
    def grant(self, world: World, who: str, target: str, role: str) -> dict[str, Any]:
        response = world.client.post(
            "/api/v1/roles/grants", json={"target": target, "role": role}, headers=world.tokens[who]
        )
        assert response.status_code in {201, 403}, response.text
        body: dict[str, Any] = response.json()
        return body

    def test_a_role_admin_cannot_grant_themselves_a_role(self, world: World) -> None:
        """Chris proposing security for himself is SOD_SELF_APPROVAL, audited under kind role."""
        body = self.grant(world, "chris", "chris", "security")
        assert body["decision"]["reason_code"] == "SOD_SELF_APPROVAL"
        assert world.entries("role", object_id="chris:security", reason_code="SOD_SELF_APPROVAL")

    def test_a_conflicting_role_for_a_colluder_is_refused_outright(self, world: World) -> None:
        """Making trader bob an order approver breaks separation of duties: SOD_CONFLICTING_ROLES."""
        body = self.grant(world, "chris", "bob", "order_approver")
        assert body["decision"]["reason_code"] == "SOD_CONFLICTING_ROLES"
        assert world.entries("role", object_id="bob:order_approver", reason_code="SOD_CONFLICTING_ROLES")

    def test_the_grantee_cannot_approve_their_own_grant(self, world: World) -> None:
        """Carol votes for her own role_admin grant: SOD_SELF_APPROVAL (she is the target)."""
        request = self.grant(world, "chris", "carol", "security")["request"]
        vote = world.client.post(
            f"/api/v1/approvals/{request['request_id']}/approve",
            json={"digest": request["digest"]},
            headers=world.tokens["carol"],
        ).json()
        assert vote["decision"]["reason_code"] == "SOD_SELF_APPROVAL"

    def test_a_trader_cannot_propose_grants(self, world: World) -> None:
        """Alice is no role admin: the route refuses with 403 and the refusal is audited with her token."""
        body = self.grant(world, "alice", "bob", "compliance")
        assert body["error"]["code"] == "NOT_AUTHORIZED"
        refused = world.entries(
            "api_request", actor="alice", object_id="POST /api/v1/roles/grants", decision="deny"
        )
        assert refused
        assert refused[-1]["session_id"].startswith("token:")
