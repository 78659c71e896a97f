"""Red team, access: a suspended insider keeps their credentials; traders reach past need-to-know.

Through the HTTP API (API tokens) and the web UI (sessions) on a real SQLite file: every refusal
carries the reason code and is in the audit log with the actor, the IP and the credential used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderguard.config import ConfigError, FirmConfig, load_config
from tests.conftest import EXAMPLE_FIRM
from tests.functional.api.client import TestClient
from tests.functional.redteam_world import BIG, ORDER, World, open_large_order, red_team_world, submit
from tests.functional.web.support import csrf_of


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("redteam-access")
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


@pytest.fixture(scope="module")
def alices_order(world: World) -> str:
    """A client order alice entered on the equities desk: its id."""
    order = world.fresh(ORDER)
    assert submit(world, "alice", order)["accepted"]
    order_id: str = order["order_id"]
    return order_id


@pytest.fixture(scope="module")
def suspended(world: World) -> tuple[TestClient, str, str, str]:
    """Chris (compliance, approver) logs in to the web UI, then he and trader bob are suspended by the
    case desk. Returns chris's still-open browser, its CSRF token and a pending request (id, digest)."""
    browser = world.browser("chris")
    csrf = csrf_of(browser.get("/approvals").text)
    request_id, digest = open_large_order(world, "alice", world.fresh(BIG))
    responses = world.ctx.cases.responses
    for who in ("chris", "bob"):
        responses.suspend(who, actor="carol", reason="insider case opened by surveillance")
    return browser, csrf, request_id, digest


def assert_refusal_audited(world: World, actor: str, path: str, reason: str, credential: str) -> None:
    """A deny entry for ``path`` by ``actor`` with ``reason``, naming the IP and the credential kind."""
    found = world.entries("api_request", actor=actor, object_id=path, decision="deny", reason_code=reason)
    assert found, f"no refusal of {path} by {actor} in the audit log"
    assert found[-1]["ip"]
    assert found[-1]["session_id"].startswith(credential)


SUSPENDED_CALLS = [
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/approvals/pending", None),
    ("GET", "/api/v1/alerts", None),
    ("GET", "/api/v1/audit/checkpoint", None),
    ("POST", "/api/v1/tokens", {"label": "backdoor"}),
    ("POST", "/api/v1/roles/grants", {"target": "carol", "role": "security"}),
    ("POST", "/api/v1/preclearance", {"account": "PA-adam", "symbol": "IBM", "side": "buy", "qty": 1}),
]


class TestSuspendedInsider:
    @pytest.mark.parametrize(("method", "path", "body"), SUSPENDED_CALLS, ids=[c[1] for c in SUSPENDED_CALLS])
    def test_a_still_valid_api_token_opens_nothing(
        self,
        world: World,
        suspended: tuple[TestClient, str, str, str],
        method: str,
        path: str,
        body: dict[str, Any] | None,
    ) -> None:
        """Every route answers 403 PRINCIPAL_SUSPENDED to the suspended principal's token, audited."""
        response = world.client.request(method, path, json=body, headers=world.tokens["chris"])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "PRINCIPAL_SUSPENDED"
        assert_refusal_audited(world, "chris", f"{method} {path}", "PRINCIPAL_SUSPENDED", "token:")

    def test_a_suspended_approver_cannot_vote_with_a_token(
        self, world: World, suspended: tuple[TestClient, str, str, str]
    ) -> None:
        """The approve route refuses chris and the request keeps no approver."""
        _, _, request_id, digest = suspended
        path = f"/api/v1/approvals/{request_id}/approve"
        response = world.client.post(path, json={"digest": digest}, headers=world.tokens["chris"])
        assert response.json()["error"]["code"] == "PRINCIPAL_SUSPENDED"
        request = world.ctx.controls.approvals.store.get(request_id)
        assert request is not None
        assert request.current_approvers() == frozenset()

    def test_a_web_session_opened_before_the_suspension_is_dead(
        self, world: World, suspended: tuple[TestClient, str, str, str]
    ) -> None:
        """Chris's open browser gets refusal pages, and a vote posted through it is not counted."""
        browser, csrf, request_id, digest = suspended
        for page in ("/approvals", "/alerts", "/audit", "/tokens"):
            answer = browser.get(page)
            assert answer.status_code == 403, page
            assert "PRINCIPAL_SUSPENDED" in answer.text, page
        vote = browser.post(f"/approvals/{request_id}/approve", data={"digest": digest, "csrf_token": csrf})
        assert vote.status_code == 403
        assert "PRINCIPAL_SUSPENDED" in vote.text
        request = world.ctx.controls.approvals.store.get(request_id)
        assert request is not None
        assert request.current_approvers() == frozenset()

    def test_a_suspended_trader_enters_no_order(
        self, world: World, suspended: tuple[TestClient, str, str, str]
    ) -> None:
        """Bob's order is refused with PRINCIPAL_SUSPENDED, audited with his IP and token."""
        order = world.fresh(ORDER)
        result = submit(world, "bob", order)
        assert result["decision"]["reason_code"] == "PRINCIPAL_SUSPENDED"
        entry = world.entries("order", object_id=order["order_id"], actor="bob")[0]
        assert entry["decision"] == "deny"
        assert entry["ip"]
        assert entry["session_id"].startswith("token:")


class TestNeedToKnow:
    @pytest.mark.parametrize(("who", "reason"), [("tom", "NOT_AUTHORIZED"), ("dana", "NOT_AUTHORIZED")])
    def test_outsiders_cannot_read_a_client_order(
        self, world: World, alices_order: str, who: str, reason: str
    ) -> None:
        """A trader of another desk and a developer get 403 on alice's order; the attempt is audited."""
        response = world.client.get(f"/api/v1/orders/{alices_order}", headers=world.tokens[who])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == reason
        refused = world.entries("order", object_id=alices_order, actor=who, decision="deny")
        assert refused
        assert refused[-1]["session_id"].startswith("token:")

    def test_another_desk_cannot_cancel_an_order(self, world: World, alices_order: str) -> None:
        """Derivatives trader tom cancelling alice's equities order: NOT_AUTHORIZED, audited; it stays."""
        status_before = world.ctx.book.get(alices_order)
        assert status_before is not None
        before = status_before.status
        response = world.client.post(f"/api/v1/orders/{alices_order}/cancel", headers=world.tokens["tom"])
        assert response.status_code == 200
        assert response.json()["decision"]["reason_code"] == "NOT_AUTHORIZED"
        booked = world.ctx.book.get(alices_order)
        assert booked is not None
        assert booked.status == before
        refused = world.entries("order", object_id=alices_order, actor="tom", decision="deny")
        assert refused
        assert refused[-1]["ip"]

    @pytest.mark.parametrize(
        ("path", "method"),
        [("/api/v1/alerts", "GET"), ("/api/v1/audit/checkpoint", "GET"), ("/api/v1/events", "POST")],
    )
    def test_a_trader_reads_no_alerts_or_audit_and_writes_no_events(
        self, world: World, path: str, method: str
    ) -> None:
        """Alerts and the audit log are compliance's; a trader cannot feed the events they are watched by."""
        response = world.client.request(method, path, content=b"", headers=world.tokens["alice"])
        assert response.status_code == 403
        assert_refusal_audited(world, "alice", f"{method} {path}", "NOT_AUTHORIZED", "token:")


class TestSecondIdentity:
    def test_one_person_cannot_hold_a_second_principal_to_approve_their_own_orders(
        self, tmp_path: Path
    ) -> None:
        """A firm file giving trader alice a second, approver id under her e-mail fails to load."""
        text = EXAMPLE_FIRM.read_text("utf-8").replace(
            'id = "alice"\nname = "Alice Trader"\n',
            'id = "alice"\nname = "Alice Trader"\nemail = "alice@nb.example"\n',
        )
        text += (
            '\n[[principals]]\nid = "alice-ops"\nname = "A. Trader"\nroles = ["order_approver"]\n'
            'email = "Alice@NB.example"\n'
        )
        firm_file = tmp_path / "firm.toml"
        firm_file.write_text(text, "utf-8")
        with pytest.raises(ConfigError) as refused:
            load_config(firm_file)
        message = str(refused.value)
        assert "principal e-mail 'alice@nb.example'" in message
        assert "principals[0].email" in message
