"""The connector's policy when the reference-price database cannot be read: it does not fail, it judges
a SELL strictly (no price vouches for it) and a BUY as before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from orderguard.config import FirmConfig
from orderguard.domain import Side
from orderguard.execution.policy import ConnectorPolicy
from orderguard.gateway.reference_prices import PriceUpdate, ReferencePrices
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.execution_support import World

# above the example firm's unpriced_sell_max_qty (100,000), far below its large-order notional
BIG_CHEAP_SELL: dict[str, object] = {"side": Side.SELL, "qty": Decimal(150_000), "price": Decimal("0.01")}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


class TestUnreadableReferences:
    def test_a_database_error_makes_a_sell_need_the_quorum_and_leaves_a_buy_alone(
        self, firm: FirmConfig, engine: Engine, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With a fresh market price stored the sell needs no quorum; with the table gone it does."""
        world = World(firm)
        now = world.clock.now_ns
        store = SqlReferenceStore(engine)
        store.record([PriceUpdate(s, 0.01, now, "feed:market") for s in ("MSFT", "NVDA")], now)
        policy = ConnectorPolicy.from_firm(firm, reference_store=store)
        assert not policy.needs_quorum(world.intent(symbol="MSFT", **BIG_CHEAP_SELL), now)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE reference_prices RENAME TO rp_moved"))
        assert policy.needs_quorum(world.intent(symbol="NVDA", **BIG_CHEAP_SELL), now)
        assert not policy.needs_quorum(world.intent(symbol="AAPL"), now)
        assert "reference prices unreadable" in capsys.readouterr().err

    def test_the_floor_and_held_prices_still_raise_a_sells_notional(
        self, firm: FirmConfig, engine: Engine
    ) -> None:
        """A price held before the error still counts: the sell is judged at max(limit, held price)."""
        world = World(firm)
        now = world.clock.now_ns
        store = SqlReferenceStore(engine)
        store.record([PriceUpdate("MSFT", 500.0, now, "feed:market")], now)
        rereading = ReferencePrices(store=store, refresh_ns=0)  # reads the store on every look-up
        policy = replace(ConnectorPolicy.from_firm(firm), references=rereading)
        intent = world.intent(symbol="MSFT", side=Side.SELL, qty=Decimal(10), price=Decimal(1))
        assert policy.control_notional(intent, now) == (Decimal(5000), False)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE reference_prices RENAME TO rp_moved"))
        assert policy.control_notional(intent, now) == (Decimal(5000), False)
