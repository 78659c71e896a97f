"""The HTTP API end to end on a real SQLite file, with the demo day loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.audit.encoding import decode_leaf, decode_payload
from orderguard.audit.proofs import verify_inclusion
from orderguard.audit.store import AuditStore
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context
from tests.functional.web.support import audit_entries

World = tuple[AppContext, TestClient, dict[str, dict[str, str]]]
ORDER = {
    "order_id": "T-1",
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 10,
    "price": 100,
    "venue": "XNYS",
}


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ctx = demo_context(firm, tmp_path_factory.mktemp("api"))
    tokens = {
        p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"}
        for p in ("alice", "bob", "carol", "olga", "adam", "chris")
    }
    with TestClient(create_app(ctx)) as client:
        yield ctx, client, tokens
    ctx.close()


class TestAuthentication:
    def test_no_credentials_is_401(self, world: World) -> None:
        """A request without a token or session is refused with 401 and the error shape."""
        _, client, _ = world
        response = client.get("/api/v1/alerts")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"

    def test_revoked_token_stops_working(self, world: World) -> None:
        """A revoked token is refused; its rotation replacement works and the old one does not."""
        ctx, client, _ = world
        token = ctx.tokens.issue("bob", "temp")
        headers = {"Authorization": f"Bearer {token}"}
        token_id = token.split("_")[1]
        rotated = client.post(f"/api/v1/tokens/{token_id}/rotate", headers=headers)
        assert rotated.status_code == 200
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        fresh = {"Authorization": f"Bearer {rotated.json()['token']}"}
        assert client.get("/api/v1/me", headers=fresh).json()["id"] == "bob"
        assert client.delete(f"/api/v1/tokens/{rotated.json()['token_id']}", headers=fresh).status_code == 204
        assert client.get("/api/v1/me", headers=fresh).status_code == 401

    def test_token_changes_through_the_api_are_audited_before_they_happen(self, world: World) -> None:
        """Issue, rotate and revoke through the API each leave an api_token audit entry naming the
        caller, as the web UI's token page does; a label that is not printable is refused with 400."""
        ctx, client, tokens = world
        issued = client.post("/api/v1/tokens", json={"label": "risk-feed"}, headers=tokens["alice"])
        assert issued.status_code == 201
        token_id = issued.json()["token_id"]
        own = {"Authorization": f"Bearer {issued.json()['token']}"}
        rotated = client.post(f"/api/v1/tokens/{token_id}/rotate", headers=own).json()
        new = {"Authorization": f"Bearer {rotated['token']}"}
        assert client.delete(f"/api/v1/tokens/{rotated['token_id']}", headers=new).status_code == 204
        entries = [e for e in audit_entries(ctx, "api_token") if e["actor"] == "alice"]
        assert [(e["action"], e["object_id"]) for e in entries] == [
            ("created", token_id),
            ("key_rotated", token_id),
            ("key_revoked", rotated["token_id"]),
        ]
        refused = client.post("/api/v1/tokens", json={"label": "bad\x07"}, headers=tokens["alice"])
        assert refused.status_code == 400
        assert "label" in refused.json()["error"]["message"]

    def test_tokens_are_hashed_at_rest(self, world: World) -> None:
        """The database holds no token secret, only its SHA-256."""
        ctx, _, tokens = world
        secret = tokens["alice"]["Authorization"].split("_", 2)[2]
        with ctx.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT secret_sha256 FROM api_tokens").fetchall()
        assert rows
        assert all(secret not in row[0] for row in rows)

    def test_web_unsafe_request_needs_csrf(self, world: World) -> None:
        """With a session cookie, a POST to the API without the CSRF header is refused."""
        ctx, _, _ = world
        with TestClient(create_app(ctx)) as browser:
            browser.post("/login", data={"username": "chris", "password": "correct horse battery"})
            refused = browser.post("/api/v1/tokens", json={"label": "x"})
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "CSRF"


class TestOrders:
    def test_accepted_order_is_audited_with_ip_and_session(self, world: World) -> None:
        """An accepted order returns its audit index, whose entry names the actor and the token session."""
        ctx, client, tokens = world
        result = client.post("/api/v1/orders", json=ORDER, headers=tokens["alice"]).json()
        assert result["accepted"] is True
        assert result["executions"] >= 1
        ctx.audit.checkpoint()
        stored = AuditStore(ctx.engine).entry(result["audit_index"])
        assert stored is not None
        _, _, leaf, _, payload = stored
        assert payload is not None
        header = decode_leaf(bytes(leaf)).header
        assert header["actor"] == "alice"
        assert header["object_id"] == "T-1"
        body = decode_payload(bytes(payload))
        assert body["session_id"].startswith("token:")
        assert body["ip"] == "testclient"

    def test_duplicate_order_id_is_refused(self, world: World) -> None:
        """The same order id twice is entered once."""
        _, client, tokens = world
        again = client.post("/api/v1/orders", json=ORDER, headers=tokens["alice"]).json()
        assert again["accepted"] is False
        assert again["decision"]["reason_code"] == "REPLAYED"

    def test_large_order_needs_a_second_approver(self, world: World) -> None:
        """A large order is refused until someone else approves it; then the exact order is accepted."""
        _, client, tokens = world
        large = {**ORDER, "order_id": "T-LARGE", "qty": 20_000, "price": 100}
        assert (
            client.post(
                "/api/v1/orders", json={**large, "order_id": "T-LARGE-0"}, headers=tokens["alice"]
            ).json()["decision"]["reason_code"]
            == "APPROVAL_REQUIRED"
        )
        opened = client.post("/api/v1/approvals", json={"order": large}, headers=tokens["alice"]).json()[
            "request"
        ]
        own = client.post(
            f"/api/v1/approvals/{opened['request_id']}/approve",
            json={"digest": opened["digest"]},
            headers=tokens["alice"],
        )
        # Cedar stops her first (no approver role); the engine's own SoD check is tested below.
        assert (own.status_code, own.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
        pending = client.get("/api/v1/approvals/pending", headers=tokens["olga"]).json()
        assert opened["request_id"] in [p["request_id"] for p in pending]
        vote = client.post(
            f"/api/v1/approvals/{opened['request_id']}/approve",
            json={"digest": opened["digest"]},
            headers=tokens["olga"],
        )
        assert vote.json()["decision"]["allowed"] is True
        assert client.post("/api/v1/orders", json=large, headers=tokens["alice"]).json()["accepted"] is True

    def test_an_approver_cannot_approve_her_own_request(self, world: World) -> None:
        """Cedar lets an order approver vote, and the approval engine still refuses her own request."""
        _, client, tokens = world
        large = {**ORDER, "order_id": "T-LARGE-SELF", "qty": 20_000, "price": 100}
        opened = client.post("/api/v1/approvals", json={"order": large}, headers=tokens["carol"]).json()[
            "request"
        ]
        own = client.post(
            f"/api/v1/approvals/{opened['request_id']}/approve",
            json={"digest": opened["digest"]},
            headers=tokens["carol"],
        )
        assert own.json()["decision"]["reason_code"] == "SOD_SELF_APPROVAL"

    def test_unapproved_venue_is_blocked_and_alerted(self, world: World) -> None:
        """An order to DARK-X is refused with VENUE_NOT_APPROVED and raises an unusual_route alert."""
        _, client, tokens = world
        result = client.post(
            "/api/v1/orders", json={**ORDER, "order_id": "T-DARK", "venue": "DARK-X"}, headers=tokens["alice"]
        ).json()
        assert result["decision"]["reason_code"] == "VENUE_NOT_APPROVED"
        alert = client.get(f"/api/v1/alerts/{result['alerts'][0]}", headers=tokens["carol"]).json()
        assert alert["rule"] == "unusual_route"
        assert alert["actor"] == "alice"

    def test_cancel_by_other_desk_is_refused(self, world: World) -> None:
        """Only someone the policy permits may cancel: an admin may not cancel alice's working personal
        trade; alice may."""
        _, client, tokens = world
        clearance = {"account": "PA-alice", "symbol": "KO", "side": "buy", "qty": 20}
        cleared = client.post("/api/v1/preclearance", json=clearance, headers=tokens["alice"]).json()
        assert cleared["decision"]["allowed"], cleared
        personal = ORDER | {"order_id": "T-P1", "account": "PA-alice", "symbol": "KO", "qty": 20, "price": 60}
        entered = client.post("/api/v1/orders", json=personal, headers=tokens["alice"]).json()
        assert entered["accepted"] is True, entered
        refused = client.post("/api/v1/orders/T-P1/cancel", headers=tokens["adam"]).json()
        assert refused["accepted"] is False
        assert refused["decision"]["reason_code"] == "NOT_AUTHORIZED"
        assert client.post("/api/v1/orders/T-P1/cancel", headers=tokens["alice"]).json()["accepted"] is True


class TestCompliance:
    def test_trader_cannot_read_alerts(self, world: World) -> None:
        """Cedar refuses view_case to a trader (403 with the reason code)."""
        _, client, tokens = world
        response = client.get("/api/v1/alerts", headers=tokens["alice"])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "NOT_AUTHORIZED"

    def test_alert_filters(self, world: World) -> None:
        """Filtering by rule returns only that rule's alerts, and the demo day planted some."""
        _, client, tokens = world
        everything = client.get("/api/v1/alerts", headers=tokens["carol"]).json()
        assert len({a["rule"] for a in everything}) >= 3
        rule = everything[0]["rule"]
        some = client.get("/api/v1/alerts", params={"rule": rule}, headers=tokens["carol"]).json()
        assert some
        assert all(a["rule"] == rule for a in some)
        assert len(some) <= len(everything)

    def test_case_close_closes_its_alerts(self, world: World) -> None:
        """A bad disposition is a 422; closing with one closes the case and every alert on it."""
        _, client, tokens = world
        cases = client.get("/api/v1/cases", params={"status": "open"}, headers=tokens["carol"]).json()
        case_id = next(c["case_id"] for c in cases if c["subject"] != "carol")
        url = f"/api/v1/cases/{case_id}"
        bad = client.post(f"{url}/close", json={"disposition": "whatever"}, headers=tokens["carol"])
        assert bad.status_code == 422
        client.post(f"{url}/comments", json={"body": "reviewed the trades"}, headers=tokens["carol"])
        evidence = client.post(f"{url}/evidence", headers=tokens["carol"]).json()["evidence"]
        assert evidence
        closed = client.post(f"{url}/close", json={"disposition": "benign"}, headers=tokens["carol"]).json()
        assert closed["case"]["status"] == "closed"
        assert any("reviewed the trades" in c["what"] for c in closed["comments"])
        assert {a["status"] for a in closed["alerts"]} == {"closed"}

    def test_suspension_blocks_order_entry(self, world: World) -> None:
        """Suspending a case's subject refuses their next order with PRINCIPAL_SUSPENDED."""
        _, client, tokens = world
        cases = client.get("/api/v1/cases", params={"status": "open"}, headers=tokens["chris"]).json()
        case_id = next(c["case_id"] for c in cases if c["subject"] == "bob")
        taken = client.post(
            f"/api/v1/cases/{case_id}/responses",
            json={"kind": "suspend", "reason": "copy trading under investigation"},
            headers=tokens["chris"],
        )
        assert taken.status_code == 201
        order = {**ORDER, "order_id": "T-BOB", "account": "C-HEDGE-1"}
        refused = client.post("/api/v1/orders", json=order, headers=tokens["bob"]).json()
        assert refused["decision"]["reason_code"] == "PRINCIPAL_SUSPENDED"


class TestAudit:
    def test_inclusion_proof_verifies(self, world: World) -> None:
        """The proof served for an entry verifies against the served root."""
        _, client, tokens = world
        proof = client.get("/api/v1/audit/proof/5", headers=tokens["carol"]).json()
        verify_inclusion(
            5,
            proof["size"],
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(p) for p in proof["proof"]],
            bytes.fromhex(proof["root"]),
        )

    def test_verify_and_bundle(self, world: World, tmp_path: Path) -> None:
        """Verification reports an intact log, and an exported bundle verifies offline."""
        from orderguard.audit.bundle import verify_bundle

        _, client, tokens = world
        assert client.post("/api/v1/audit/verify", headers=tokens["carol"]).json()["ok"] is True
        bundle = client.get(
            "/api/v1/audit/bundle", params=[("index", 1), ("index", 2)], headers=tokens["carol"]
        )
        path = tmp_path / "bundle.json"
        path.write_bytes(bundle.content)
        report = verify_bundle(path)
        assert not report.problems
        assert len(report.entries) == 2


class TestIngest:
    def test_bad_line_rejects_the_batch(self, world: World) -> None:
        """A bad second line is a 400 naming line 2, and the first line is not stored."""
        ctx, client, tokens = world
        before = ctx.events.count()
        body = (
            b'{"event_id":"in-1","ts":"2026-11-20T15:00:00Z","kind":"login","actor":"alice"}\n'
            b'{"event_id":"in-2","ts":"yesterday","kind":"login","actor":"bob"}\n'
        )
        response = client.post(
            "/api/v1/events", content=body, headers={**tokens["adam"], "content-type": "application/x-ndjson"}
        )
        assert response.status_code == 400
        assert "2" in response.json()["error"]["message"]
        assert ctx.events.count() == before

    def test_traders_cannot_ingest(self, world: World) -> None:
        """Cedar (ingest_events) refuses ingestion to a trader: she cannot write what surveillance reads."""
        _, client, tokens = world
        body = b'{"event_id":"in-3","ts":"2026-11-20T15:00:00Z","kind":"login","actor":"alice"}\n'
        refused = client.post("/api/v1/events", content=body, headers=tokens["alice"])
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
