"""Incident playbooks through the public interfaces: the HTTP API over a real SQLite file, the
``orderguard`` CLI for surveillance and for checking the evidence bundle offline.

Events go in over ``POST /api/v1/events``; ``POST /api/v1/surveillance/scan`` turns them into
alerts and cases in the API process; compliance and security then work the cases over the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.audit.bundle import verify_bundle
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.playbooks_api_world import (
    STAFF,
    front_run_by_tom,
    night_of_alice,
    open_context,
    orderguard,
    write_jsonl,
)

ORDER = {"account": "C-PENSION-1", "symbol": "AAPL", "side": "buy", "qty": 10, "price": 100, "venue": "XNYS"}


@dataclass
class World:
    ctx: AppContext
    client: TestClient
    auth: dict[str, dict[str, str]]
    folder: Path

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.auth[who], **kwargs)

    def post(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.auth[who], **kwargs)

    def case_of(self, who: str, subject: str) -> str:
        cases = self.get(who, "/api/v1/cases", params={"status": "open"}).json()
        return str(next(c["case_id"] for c in cases if c["subject"] == subject))

    def audit_entries(self, who: str, indexes: list[int]) -> list[dict[str, Any]]:
        """The audit entries at ``indexes`` as an exported bundle shows them, verified offline."""
        bundle = self.get(who, "/api/v1/audit/bundle", params=[("index", i) for i in indexes])
        assert bundle.status_code == 200, bundle.text
        path = self.folder / "entries.json"
        path.write_bytes(bundle.content)
        report = verify_bundle(path, self.ctx.keys)
        assert report.problems == []
        return report.entries


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("playbooks-api")
    events = write_jsonl(folder / "events.jsonl", night_of_alice() + front_run_by_tom())
    ctx = open_context(firm, folder)
    auth = {p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"} for p in STAFF}
    with TestClient(create_app(ctx)) as client:
        stored = client.post(
            "/api/v1/events",
            content=events.read_bytes(),
            headers={**auth["adam"], "content-type": "application/x-ndjson"},
        )
        assert stored.status_code == 201, stored.text
        scanned = client.post("/api/v1/surveillance/scan", headers=auth["carol"])
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["by_rule"]["front_running"] == {"found": 1, "stored": 1}
        yield World(ctx, client, auth, folder)
    ctx.close()


class TestAfterHoursAccessPlaybook:
    def test_alert_contain_investigate_preserve(self, world: World) -> None:
        """50 records viewed at 11 PM: security sees the alert, suspends (the next order is refused),
        holds and escalates, reads the timeline and the trades in what was viewed, and exports a
        bundle that `orderguard audit verify-bundle` accepts and that fails once tampered with."""
        # 1. The alert, in the security queue.
        volume = world.get(
            "sofia", "/api/v1/alerts", params={"subject": "alice", "rule": "query_volume"}
        ).json()
        assert volume, "query_volume raised nothing for alice"
        alert = volume[0]
        assert alert["queues"] == ["security"]
        assert alert["severity"] == "high"
        assert "client-order records" in alert["explanation"]
        night = world.get("sofia", "/api/v1/alerts", params={"subject": "alice"}).json()
        assert {a["rule"] for a in night} == {"query_volume", "after_hours_access"}
        assert {a["case_id"] for a in night} == {alert["case_id"]}
        case_id = world.case_of("sofia", "alice")
        assert case_id == alert["case_id"]
        url = f"/api/v1/cases/{case_id}"

        # 2. Immediate actions: escalate, suspend (effective on the very next request), legal hold.
        escalated = world.post(
            "sofia", f"/api/v1/alerts/{alert['alert_id']}/status", json={"status": "escalated"}
        )
        assert escalated.json()["status"] == "escalated"
        reason = {"reason": "50 client-order records viewed at 23:00"}
        suspended = world.post("sofia", f"{url}/responses", json={"kind": "suspend", **reason})
        assert suspended.status_code == 201
        assert suspended.json()["active"] is True
        order = world.post("alice", "/api/v1/orders", json={**ORDER, "order_id": "AL-1"}).json()
        assert order["accepted"] is False
        assert order["decision"]["reason_code"] == "PRINCIPAL_SUSPENDED"
        reading = world.get("alice", "/api/v1/me")
        assert (reading.status_code, reading.json()["error"]["code"]) == (403, "PRINCIPAL_SUSPENDED")
        held = world.post("sofia", f"{url}/responses", json={"kind": "legal_hold", **reason})
        assert held.status_code == 201
        assert world.ctx.cases is not None
        assert world.ctx.cases.state.is_held(case_id)
        assert world.ctx.cases.state.is_held("PA-alice")

        # 3. Investigation: the timeline and what she traded in what she viewed.
        case = world.get("sofia", url).json()
        assert {(r["kind"], r["active"]) for r in case["responses"]} == {
            ("suspend", True),
            ("legal_hold", True),
        }
        events = [t["what"].split(":")[0] for t in case["timeline"] if t["actor"] == "event"]
        assert events[0] == "login"
        assert events.count("order_view") == 10
        assert events.count("personal_trade") == 2
        audited = [t["what"] for t in case["timeline"] if t["actor"] == "audit"]
        assert any("AL-1" in what and "deny" in what for what in audited), audited  # her refused order
        evidence = world.post("sofia", f"{url}/evidence").json()["evidence"]
        [review] = [e["content"] for e in evidence if e["kind"] == "access_review"]
        assert review["viewed_accounts"] == ["C-HEDGE-1", "C-PENSION-1"]
        assert review["viewed_symbols"] == ["AAPL", "MSFT"]
        assert [t["event_id"] for t in review["related_trades"]] == ["n-trade-aapl"]
        assert {e["ref"] for e in evidence if e["kind"] == "event"} >= {f"n-view-{i}" for i in range(10)}

        # 4. Preservation: the audit entries attached to the case, exported and verified offline.
        indexes = sorted(int(e["ref"]) for e in evidence if e["kind"] == "audit_entry")
        bundle = world.get("sofia", "/api/v1/audit/bundle", params=[("index", i) for i in indexes])
        assert bundle.status_code == 200
        path = world.folder / "case-bundle.json"
        path.write_bytes(bundle.content)
        keys = world.folder / "verifier.keys"
        keys.write_text(world.ctx.keys.to_text())
        checked = orderguard("audit", "verify-bundle", str(path), "--keys", str(keys), "--show")
        assert checked.returncode == 0, checked.stderr
        entries = [json.loads(line) for line in checked.stdout.splitlines() if line.startswith("{")]
        assert len(entries) == len(indexes)
        assert {"alerted", "suspended", "legal_hold", "viewed"} <= {e["action"] for e in entries}
        assert any(e["actor"] == "alice" and e["decision"] == "deny" for e in entries)
        document = json.loads(path.read_text())
        first = next(e for e in document["entries"] if e["payload"])
        first["payload"] = first["payload"][:-4] + ("AAAA" if first["payload"][-4:] != "AAAA" else "BBBB")
        path.write_text(json.dumps(document))
        tampered = orderguard("audit", "verify-bundle", str(path), "--keys", str(keys))
        assert tampered.returncode == 1
        assert "TAMPERED" in tampered.stderr


class TestFrontRunningPlaybook:
    def test_trade_and_order_linked_with_the_clients_price_move(self, world: World) -> None:
        """tom's personal NVDA buy and his client's order sit in one case, and the case evidence
        prices the move against the client: 0.50 x 10,000 + 0.80 x 10,000 = 13,000."""
        [alert] = world.get("carol", "/api/v1/alerts", params={"rule": "front_running"}).json()
        assert alert["actor"] == "tom"
        assert {"fr-p", "fr-c"} <= set(alert["event_ids"])
        case_id = world.case_of("carol", "tom")
        assert alert["case_id"] == case_id
        evidence = world.post("carol", f"/api/v1/cases/{case_id}/evidence").json()["evidence"]
        assert {"fr-p", "fr-c"} <= {e["ref"] for e in evidence if e["kind"] == "event"}
        [impact] = [e for e in evidence if e["kind"] == "front_running_impact"]
        assert impact["ref"] == alert["alert_id"]
        found = impact["content"]
        assert found["personal_trade"]["event_id"] == "fr-p"
        assert found["client_order"]["event_id"] == "fr-c"
        assert [x["event_id"] for x in found["executions"]] == ["fr-x1", "fr-x2"]
        assert found["client_qty"] == 20_000
        assert found["price_move"] == pytest.approx(0.65)
        assert found["client_cost"] == pytest.approx(13_000)
        # Attaching again adds only the audit entries written since (the first attach among them).
        again = world.post("carol", f"/api/v1/cases/{case_id}/evidence").json()["evidence"]
        assert [e for e in again if e["kind"] != "audit_entry"] == [
            e for e in evidence if e["kind"] != "audit_entry"
        ]
        refs = [e["ref"] for e in again if e["kind"] == "audit_entry"]
        assert len(refs) == len(set(refs)) > len([e for e in evidence if e["kind"] == "audit_entry"])


class TestProtectTheAccused:
    def test_a_trader_asking_for_a_case_is_refused_and_audited(self, world: World) -> None:
        """bob (a trader) asking for alice's case, and tom for his own, get 403; each refusal is in
        the audit log with who asked, for what, and the reason code."""
        alice_case, tom_case = world.case_of("carol", "alice"), world.case_of("carol", "tom")
        before = world.client.get("/health").json()["audit_size"]
        for who, case_id in (("bob", alice_case), ("tom", tom_case)):
            refused = world.get(who, f"/api/v1/cases/{case_id}")
            assert (refused.status_code, refused.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
        after = world.client.get("/health").json()["audit_size"]
        entries = world.audit_entries("carol", list(range(before, after)))
        refusals = {(e["actor"], e["object_id"]) for e in entries if e["action"] == "refused"}
        assert refusals == {
            ("bob", f"GET /api/v1/cases/{alice_case}"),
            ("tom", f"GET /api/v1/cases/{tom_case}"),
        }
        assert all(e["reason_code"] == "NOT_AUTHORIZED" for e in entries if e["action"] == "refused")


class TestLiftingASuspension:
    def test_only_an_investigator_other_than_subject_and_requester_approves_the_lift(
        self, world: World
    ) -> None:
        """tom's suspension lift is a suspension_lift approval: tom, the requester and an order
        approver cannot approve it; security can, and tom is reinstated on his next request."""
        case_id = world.case_of("carol", "tom")
        taken = world.post(
            "carol", f"/api/v1/cases/{case_id}/responses", json={"kind": "suspend", "reason": "r"}
        )
        assert world.get("tom", "/api/v1/me").status_code == 403
        response_id = taken.json()["response_id"]
        opened = world.post("carol", f"/api/v1/responses/{response_id}/lift-request")
        assert opened.status_code == 201, opened.text
        request_id = opened.json()["approval_id"]
        [pending] = [
            r for r in world.get("sofia", "/api/v1/approvals/pending").json() if r["request_id"] == request_id
        ]
        assert pending["action"] == "suspension_lift"
        vote = {"digest": pending["digest"]}
        url = f"/api/v1/approvals/{request_id}/approve"
        assert world.post("tom", url, json=vote).json()["error"]["code"] == "PRINCIPAL_SUSPENDED"
        assert world.post("carol", url, json=vote).json()["decision"]["reason_code"] == "SOD_SELF_APPROVAL"
        assert world.post("olga", url, json=vote).json()["decision"]["reason_code"] == "APPROVAL_NOT_ELIGIBLE"
        assert world.post("sofia", url, json=vote).json()["decision"]["allowed"] is True
        lifted = world.post(
            "carol", f"/api/v1/responses/{response_id}/lift", json={"approval_id": request_id}
        )
        assert lifted.json()["active"] is False, lifted.text
        assert world.get("tom", "/api/v1/me").status_code == 200
