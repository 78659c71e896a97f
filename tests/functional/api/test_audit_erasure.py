"""Erasing an audit payload over HTTP: an audit_erasure approval by two other officers, legal holds,
refusals that are logged, and a log that still verifies with every proof intact afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.audit.encoding import decode_leaf
from orderguard.audit.proofs import verify_inclusion
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context

REASON = "court order 2026/117"


@dataclass
class World:
    ctx: AppContext
    client: TestClient
    auth: dict[str, dict[str, str]]

    def post(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.auth[who], **kwargs)

    def entry_by(self, who: str) -> int:
        """The index of a fresh audit entry whose actor is ``who`` (their API request)."""
        listed = self.client.get("/api/v1/approvals/mine", headers=self.auth[who])
        assert listed.status_code == 200, listed.text
        return self.ctx.audit.head()[0] - 1

    def approved_request(self, index: int, requester: str = "carol", reason: str = REASON) -> str:
        """An audit_erasure request for ``index`` opened by ``requester`` and approved by two others."""
        opened = self.post(
            requester, f"/api/v1/audit/entries/{index}/erasure-request", json={"reason": reason}
        )
        assert opened.status_code == 201, opened.text
        request = opened.json()["request"]
        approvers = [p for p in ("carol", "chris", "sofia") if p != requester]
        for approver in approvers:
            voted = self.post(
                approver,
                f"/api/v1/approvals/{request['request_id']}/approve",
                json={"digest": request["digest"]},
            )
            assert voted.json()["decision"]["allowed"], voted.text
        return str(request["request_id"])

    def header(self, index: int) -> dict[str, object]:
        stored = self.ctx.audit.store.entry(index)
        assert stored is not None
        return dict(decode_leaf(stored[2]).header)


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("audit-erasure")
    ctx = demo_context(firm, folder, day=False)
    auth = {
        p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"}
        for p in ("carol", "chris", "sofia", "alice", "bob")
    }
    try:
        with TestClient(create_app(ctx)) as client:
            yield World(ctx, client, auth)
    finally:
        ctx.close()


class TestApprovedErasure:
    def test_erasure_removes_the_payload_and_keeps_every_proof(self, world: World) -> None:
        """After two other officers approve, the payload is gone, the erasure is logged, the entry's
        inclusion proof verifies against the current root and a full verification passes."""
        index = world.entry_by("bob")
        approval = world.approved_request(index)
        erased = world.post(
            "carol", f"/api/v1/audit/entries/{index}/erase", json={"approval_id": approval, "reason": REASON}
        )
        assert erased.status_code == 200, erased.text
        erasure_index = erased.json()["erasure_index"]
        stored = world.ctx.audit.store.entry(index)
        assert stored is not None
        assert (stored[3], stored[4]) == (None, None)
        assert world.header(erasure_index)["action"] == "erased"
        assert (world.header(erasure_index)["object_id"], world.header(erasure_index)["actor"]) == (
            str(index),
            "carol",
        )
        proof = world.client.get(f"/api/v1/audit/proof/{index}", headers=world.auth["sofia"]).json()
        verify_inclusion(
            index,
            proof["size"],
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(p) for p in proof["proof"]],
            bytes.fromhex(proof["root"]),
        )
        verified = world.post("sofia", "/api/v1/audit/verify")
        assert verified.json()["ok"] is True, verified.json()["findings"]

    def test_the_requester_cannot_approve_and_an_approval_is_spent_once(self, world: World) -> None:
        """The requester's own vote is refused; a second erasure with the spent approval is refused."""
        index = world.entry_by("bob")
        opened = world.post(
            "chris", f"/api/v1/audit/entries/{index}/erasure-request", json={"reason": REASON}
        )
        request = opened.json()["request"]
        assert (request["action"], request["quorum"], request["content"]["reason"]) == (
            "audit_erasure",
            2,
            REASON,
        )
        own = world.post(
            "chris", f"/api/v1/approvals/{request['request_id']}/approve", json={"digest": request["digest"]}
        )
        assert own.json()["decision"]["allowed"] is False
        approval = world.approved_request(index, requester="chris")
        body = {"approval_id": approval, "reason": REASON}
        assert world.post("chris", f"/api/v1/audit/entries/{index}/erase", json=body).status_code == 200
        other = world.entry_by("bob")
        again = world.post("chris", f"/api/v1/audit/entries/{other}/erase", json=body)
        assert (again.status_code, again.json()["error"]["code"]) == (403, "APPROVAL_REPLAYED")


class TestRefusedErasure:
    def test_a_legal_hold_refuses_even_an_approved_erasure(self, world: World) -> None:
        """While a legal hold covers the entry's actor the erasure is refused with LEGAL_HOLD, logged,
        and the payload stays."""
        assert world.ctx.cases is not None
        index = world.entry_by("alice")
        approval = world.approved_request(index)
        world.ctx.cases.responses.legal_hold("alice", actor="chris", reason="litigation 7")
        refused = world.post(
            "carol", f"/api/v1/audit/entries/{index}/erase", json={"approval_id": approval, "reason": REASON}
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "LEGAL_HOLD")
        stored = world.ctx.audit.store.entry(index)
        assert stored is not None
        assert stored[4] is not None
        logged = [world.header(i) for i in range(index, world.ctx.audit.head()[0])]
        assert any(h["action"] == "refused" and h["reason_code"] == "LEGAL_HOLD" for h in logged)

    def test_no_valid_approval_refuses(self, world: World) -> None:
        """No approval id, an approval still short of its quorum, or one given for another reason: refused."""
        index = world.entry_by("bob")
        url = f"/api/v1/audit/entries/{index}/erase"
        missing = world.post("carol", url, json={"reason": REASON})
        assert (missing.status_code, missing.json()["error"]["code"]) == (403, "APPROVAL_REQUIRED")
        pending = world.post(
            "carol", f"/api/v1/audit/entries/{index}/erasure-request", json={"reason": REASON}
        )
        short = world.post(
            "carol", url, json={"approval_id": pending.json()["request"]["request_id"], "reason": REASON}
        )
        assert (short.status_code, short.json()["error"]["code"]) == (403, "APPROVAL_REQUIRED")
        approval = world.approved_request(index)
        changed = world.post("carol", url, json={"approval_id": approval, "reason": "another reason"})
        assert (changed.status_code, changed.json()["error"]["code"]) == (403, "APPROVAL_STALE")
        stored = world.ctx.audit.store.entry(index)
        assert stored is not None
        assert stored[4] is not None

    def test_only_compliance_reaches_erasure(self, world: World) -> None:
        """Security may approve but not erase; a trader may not even ask (Cedar, 403 NOT_AUTHORIZED)."""
        index = world.entry_by("bob")
        erase = world.post(
            "sofia", f"/api/v1/audit/entries/{index}/erase", json={"approval_id": "apr-x", "reason": REASON}
        )
        assert (erase.status_code, erase.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
        ask = world.post("alice", f"/api/v1/audit/entries/{index}/erasure-request", json={"reason": REASON})
        assert (ask.status_code, ask.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")

    def test_an_unknown_entry_is_not_found(self, world: World) -> None:
        """Asking to erase an entry beyond the log's end is a 404 naming the log size."""
        beyond = world.ctx.audit.head()[0] + 1000
        missing = world.post(
            "carol", f"/api/v1/audit/entries/{beyond}/erasure-request", json={"reason": REASON}
        )
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NO_SUCH_ENTRY")
        assert "entries" in missing.json()["error"]["message"]
