"""Red team, personal trading: an employee tries to stretch one pre-clearance over several trades.

Before this suite, orders racing on one clearance all passed the check before the first one spent
it (six of eight went through, one crashed); the check now holds the clearance for its order.
Runs through the order desk in process (the race) and the HTTP API on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.wiring.order_desk import OrderOutcome
from tests.functional.redteam_world import ORDER, World, backend_url, red_team_world, submit

RACERS = 4


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One world per backend for the module; each test trades its own symbol."""
    tmp = tmp_path_factory.mktemp("redteam-preclearance")
    with red_team_world(firm, backend_url(request, tmp), tmp) as w:
        yield w


def preclear(world: World, who: str, account: str, symbol: str, qty: float = 100) -> dict[str, Any]:
    body = {"account": account, "symbol": symbol, "side": "buy", "qty": qty}
    response = world.client.post("/api/v1/preclearance", json=body, headers=world.tokens[who])
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def personal(world: World, symbol: str = "IBM", **change: object) -> dict[str, Any]:
    return world.fresh({**ORDER, "order_id": "P", "account": "PA-dana", "symbol": symbol, **change})


class BarrierSink:
    """The real audit log, but every order entry waits until all racers have decided (the worst case)."""

    def __init__(self, inner: Any, parties: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(parties, timeout=20)

    def append(self, entry: AuditEntry) -> int:
        if entry.kind == "order":
            self.barrier.wait()
        index: int = self.inner.append(entry)
        return index


class TestOneClearanceOneTrade:
    def test_concurrent_trades_on_one_clearance_go_through_once(self, world: World) -> None:
        """Four personal orders race on one clearance: exactly one goes, the others are
        PRECLEARANCE_REQUIRED, and every decision is in the audit log."""
        assert preclear(world, "dana", "PA-dana", "IBM")["decision"]["allowed"]
        gate = world.ctx.controls.gate
        real = gate.audit
        gate.audit = BarrierSink(real, RACERS)
        now = world.clock()

        def trade(i: int) -> OrderOutcome:
            ticket = OrderTicket(
                f"P-race-{i}", "dana", "PA-dana", "IBM", Side.BUY, 100, 10.0, "XNYS", now + i
            )
            return world.ctx.orders.submit(ticket)

        try:
            with ThreadPoolExecutor(RACERS) as pool:
                outcomes = list(pool.map(trade, range(RACERS)))
        finally:
            gate.audit = real
        assert sum(o.accepted for o in outcomes) == 1
        assert {o.decision.reason.value for o in outcomes if not o.accepted} == {"PRECLEARANCE_REQUIRED"}
        entries = [e for e in world.entries("order", actor="dana") if e["object_id"].startswith("P-race-")]
        assert sorted(e["decision"] for e in entries) == ["allow"] + ["deny"] * (RACERS - 1)
        history = [r for r in world.ctx.controls.preclearance.history("dana") if r.symbol == "IBM"]
        assert [r.spent_ns is not None for r in history] == [True]

    def test_a_second_trade_on_a_spent_clearance_is_refused(self, world: World) -> None:
        """The cleared trade goes; the same trade again needs a new clearance, audited with IP and token."""
        preclear(world, "dana", "PA-dana", "ORCL")
        assert submit(world, "dana", personal(world, "ORCL"))["accepted"]
        again = personal(world, "ORCL")
        result = submit(world, "dana", again)
        assert result["decision"]["reason_code"] == "PRECLEARANCE_REQUIRED"
        entry = world.entries("order", object_id=again["order_id"], decision="deny")[0]
        assert entry["ip"]
        assert entry["session_id"].startswith("token:")

    def test_a_clearance_does_not_cover_a_bigger_trade_or_the_other_side(self, world: World) -> None:
        """Cleared to buy 100: buying 101 or selling is PRECLEARANCE_REQUIRED."""
        preclear(world, "dana", "PA-dana", "IBM")
        assert (
            submit(world, "dana", personal(world, qty=101))["decision"]["reason_code"]
            == "PRECLEARANCE_REQUIRED"
        )
        assert submit(world, "dana", personal(world, side="sell"))["decision"]["reason_code"] == (
            "PRECLEARANCE_REQUIRED"
        )

    def test_a_clearance_for_a_stock_does_not_cover_its_option(self, world: World) -> None:
        """Cleared for AAPL, trading AAPL-OPT is PRECLEARANCE_REQUIRED."""
        assert preclear(world, "dana", "PA-dana", "AAPL")["decision"]["allowed"]
        result = submit(world, "dana", personal(world, symbol="AAPL-OPT"))
        assert result["decision"]["reason_code"] == "PRECLEARANCE_REQUIRED"

    def test_the_option_of_a_working_client_order_is_blacked_out(self, world: World) -> None:
        """Bob sits on the desk of alice's working AAPL order: AAPL-OPT is PRECLEARANCE_BLACKOUT for him."""
        assert submit(world, "alice", world.fresh(ORDER, qty=1_000))["accepted"]
        answer = preclear(world, "bob", "PA-bob", "AAPL-OPT")
        assert answer["decision"]["reason_code"] == "PRECLEARANCE_BLACKOUT"
        assert world.entries("preclearance", actor="bob", reason_code="PRECLEARANCE_BLACKOUT")

    def test_nobody_trades_or_clears_in_someone_elses_personal_account(self, world: World) -> None:
        """Dana asks clearance for alice's account (NOT_AUTHORIZED) and cannot trade in it either."""
        assert preclear(world, "dana", "PA-alice", "NVDA")["decision"]["reason_code"] == "NOT_AUTHORIZED"
        result = submit(world, "dana", personal(world, "NVDA", account="PA-alice"))
        assert result["decision"]["reason_code"] == "NOT_AUTHORIZED"
        assert world.entries("order", object_id=result["order_id"], actor="dana", decision="deny")
