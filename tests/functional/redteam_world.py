"""The red team's world: the example firm behind the real app (HTTP API, web UI, order desk) on a
real database, with a clock the test moves, API tokens for the insiders and audit-trail lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext, build_app_context
from orderguard.config import FirmConfig
from orderguard.wiring.demo_day import DEMO_DATE
from tests.functional.api.client import TestClient
from tests.functional.api.support import PASSWORD
from tests.functional.web.support import audit_entries, logged_in

SECOND = 1_000_000_000
INSIDERS = ("alice", "bob", "tom", "dana", "devon", "adam", "carol", "chris", "sofia", "olga", "walt")
ORDER: dict[str, Any] = {
    "order_id": "T-1",
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 10,
    "price": 100,
    "venue": "XNYS",
}
BIG: dict[str, Any] = {**ORDER, "order_id": "BIG-1", "qty": 20_000}  # 2,000,000: above the threshold


class ManualClock:
    """Epoch ns that only moves when the test says so (starts inside business hours)."""

    def __init__(self, firm: FirmConfig) -> None:
        anchor = dt.datetime.combine(DEMO_DATE, dt.time(15, 30), tzinfo=firm.business_hours.zone)
        self.now = int(anchor.timestamp()) * SECOND

    def __call__(self) -> int:
        self.now += 1_000  # distinct timestamps, in order
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * SECOND)


@dataclass
class World:
    ctx: AppContext
    client: TestClient
    tokens: dict[str, dict[str, str]]
    clock: ManualClock
    issued: int = 0

    def fresh(self, order: dict[str, Any], **change: object) -> dict[str, Any]:
        """``order`` with ``change`` and an order id never used in this world (tests share a world)."""
        self.issued += 1
        return {**order, **change, "order_id": f"{order['order_id']}-{self.issued}"}

    def browser(self, who: str) -> TestClient:
        """A test browser logged in as ``who`` (a web session: password set on first use)."""
        self.ctx.sessions.set_password(who, PASSWORD)
        return logged_in(self.ctx, who)

    def entries(self, kind: str, **match: object) -> list[dict[str, Any]]:
        """Audit entries of ``kind`` whose fields equal ``match``, oldest first."""
        return [e for e in audit_entries(self.ctx, kind) if all(e.get(k) == v for k, v in match.items())]

    def audit_size(self) -> int:
        return self.ctx.audit.head()[0]


def backend_url(request: pytest.FixtureRequest, tmp: Path) -> str:
    """The database for a fixture parametrised by backend: SQLite in ``tmp`` or a fresh PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp / 'orderguard.db'}"
    return str(request.getfixturevalue("postgres_cluster").new_database())


@contextmanager
def red_team_world(firm: FirmConfig, url: str, tmp_path: Path) -> Iterator[World]:
    """The app on ``url`` with an API token per insider."""
    clock = ManualClock(firm)
    ctx = build_app_context(firm, url, audit_key=tmp_path / "audit.key", clock=clock)
    try:
        tokens = {who: {"Authorization": f"Bearer {ctx.tokens.issue(who)}"} for who in INSIDERS}
        with TestClient(create_app(ctx)) as client:
            yield World(ctx, client, tokens, clock)
    finally:
        ctx.close()


def open_large_order(world: World, who: str, order: dict[str, Any]) -> tuple[str, str]:
    """``who`` asks for approval of ``order`` through the API: (request id, digest)."""
    response = world.client.post("/api/v1/approvals", json={"order": order}, headers=world.tokens[who])
    assert response.status_code == 201, response.text
    request = response.json()["request"]
    return request["request_id"], request["digest"]


def approve(world: World, who: str, request_id: str, digest: str) -> dict[str, Any]:
    response = world.client.post(
        f"/api/v1/approvals/{request_id}/approve", json={"digest": digest}, headers=world.tokens[who]
    )
    assert response.status_code in {200, 403}, response.text
    body: dict[str, Any] = response.json()
    return body


def submit(world: World, who: str, order: dict[str, Any]) -> dict[str, Any]:
    response = world.client.post("/api/v1/orders", json=order, headers=world.tokens[who])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
