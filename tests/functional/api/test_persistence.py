"""Control state through the API on SQLite: it survives a restart, and finished orders end blackouts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from orderguard.api import create_app
from orderguard.app import AppContext, build_app_context
from orderguard.config import FirmConfig
from orderguard.wiring.demo_day import DEMO_DATE
from tests.functional.api.client import TestClient

NS = 1_000_000_000
BLACKOUT_SECONDS = 60.0
ORDER = {"account": "C-PENSION-1", "symbol": "AAPL", "side": "buy", "qty": 10, "price": 100, "venue": "XNYS"}


class SteppedClock:
    """A clock on the demo day (15:30 New York) that moves only when a test says so."""

    def __init__(self, firm: FirmConfig) -> None:
        anchor = dt.datetime.combine(DEMO_DATE, dt.time(15, 30), tzinfo=firm.business_hours.zone)
        self.now = int(anchor.timestamp()) * NS

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * NS)


def _context(firm: FirmConfig, tmp_path: Path, clock: SteppedClock, *, execute: bool = True) -> AppContext:
    short = firm.model_copy(
        update={
            "controls": firm.controls.model_copy(update={"preclearance_blackout_seconds": BLACKOUT_SECONDS})
        }
    )
    return build_app_context(
        short,
        f"sqlite:///{tmp_path / 'orderguard.db'}",
        audit_key=tmp_path / "audit.key",
        execute=execute,
        clock=clock,
    )


def _bearer(ctx: AppContext, principal: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.tokens.issue(principal)}"}


def _preclear(client: TestClient, headers: dict[str, str], symbol: str = "AAPL") -> str:
    body = {"account": "PA-alice", "symbol": symbol, "side": "buy", "qty": 5}
    response = client.post("/api/v1/preclearance", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["decision"]["reason_code"])


class TestRestart:
    def test_pending_approval_and_clearance_survive_a_restart(self, firm: FirmConfig, tmp_path: Path) -> None:
        """A new app over the same SQLite file still has the pending approval and the granted clearance."""
        clock = SteppedClock(firm)
        first = _context(firm, tmp_path, clock)
        alice, olga = _bearer(first, "alice"), _bearer(first, "olga")
        large = {**ORDER, "order_id": "R-LARGE", "qty": 20_000}
        with TestClient(create_app(first)) as client:
            opened = client.post("/api/v1/approvals", json={"order": large}, headers=alice).json()["request"]
            assert _preclear(client, alice, "MSFT") == "ALLOWED"
        first.close()

        second = _context(firm, tmp_path, clock)
        with TestClient(create_app(second)) as client:
            pending = client.get("/api/v1/approvals/pending", headers=olga).json()
            assert opened["request_id"] in [p["request_id"] for p in pending]
            personal = {**ORDER, "order_id": "R-PA", "account": "PA-alice", "symbol": "MSFT", "qty": 5}
            traded = client.post("/api/v1/orders", json=personal, headers=alice).json()
            assert (traded["accepted"], traded["decision"]["reason_code"]) == (True, "ALLOWED")
            vote = client.post(
                f"/api/v1/approvals/{opened['request_id']}/approve",
                json={"digest": opened["digest"]},
                headers=olga,
            )
            assert vote.json()["decision"]["allowed"] is True
            assert client.post("/api/v1/orders", json=large, headers=alice).json()["accepted"] is True
        second.close()

    def test_without_the_clearance_the_personal_trade_is_refused(
        self, firm: FirmConfig, tmp_path: Path
    ) -> None:
        """The restart check above can fail: a personal trade with no clearance on file is refused."""
        ctx = _context(firm, tmp_path, SteppedClock(firm))
        personal = {**ORDER, "order_id": "R-PA-0", "account": "PA-alice", "symbol": "MSFT", "qty": 5}
        with TestClient(create_app(ctx)) as client:
            refused = client.post("/api/v1/orders", json=personal, headers=_bearer(ctx, "alice")).json()
        ctx.close()
        assert refused["accepted"] is False


class TestBlackoutEnds:
    def test_an_executed_order_ends_its_blackout_a_window_later(
        self, firm: FirmConfig, tmp_path: Path
    ) -> None:
        """A fully filled client order blacks out its desk's personal trades for one window after the fill."""
        clock = SteppedClock(firm)
        ctx = _context(firm, tmp_path, clock)
        alice = _bearer(ctx, "alice")
        with TestClient(create_app(ctx)) as client:
            entered = client.post("/api/v1/orders", json={**ORDER, "order_id": "B-1"}, headers=alice).json()
            assert entered["accepted"] is True
            assert client.get("/api/v1/orders/B-1", headers=alice).json()["status"] == "executed"
            assert _preclear(client, alice) == "PRECLEARANCE_BLACKOUT"
            clock.advance(BLACKOUT_SECONDS + 5)
            assert _preclear(client, alice) == "ALLOWED"
        ctx.close()

    def test_a_cancelled_order_ends_its_blackout_a_window_later(
        self, firm: FirmConfig, tmp_path: Path
    ) -> None:
        """A working order blacks out without end; once cancelled, the blackout ends a window later."""
        clock = SteppedClock(firm)
        ctx = _context(firm, tmp_path, clock, execute=False)
        alice = _bearer(ctx, "alice")
        with TestClient(create_app(ctx)) as client:
            assert client.post("/api/v1/orders", json={**ORDER, "order_id": "B-2"}, headers=alice).json()[
                "accepted"
            ]
            clock.advance(BLACKOUT_SECONDS * 10)
            assert _preclear(client, alice) == "PRECLEARANCE_BLACKOUT"
            assert client.post("/api/v1/orders/B-2/cancel", headers=alice).json()["accepted"] is True
            assert _preclear(client, alice) == "PRECLEARANCE_BLACKOUT"
            clock.advance(BLACKOUT_SECONDS + 5)
            assert _preclear(client, alice) == "ALLOWED"
        ctx.close()
