"""Stored reference prices on SQLite and PostgreSQL: latest per symbol and kind, kept over a restart."""

from __future__ import annotations

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Side, parse_ts
from orderguard.gateway.control_notional import MAX_AHEAD_NS
from orderguard.gateway.reference_prices import FILL_SOURCE, PriceUpdate, ReferencePrices
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.gateway.stack import ControlsStack, build_controls
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.controls_support import T0, Collected, MemoryAuditSink, order

DUMP = order("DUMP-1", side=Side.SELL, qty=9_000_000, price=0.10, symbol="NVDA")


def stack_on(firm: FirmConfig, url: str) -> ControlsStack:
    sinks = Collected()
    return build_controls(firm, MemoryAuditSink(), notifications=sinks, events=sinks, engine=url)


class TestSqlReferenceStore:
    def test_the_later_observation_wins_per_symbol_and_kind(self, db_url: str) -> None:
        """A late, older price changes nothing; fill and market price are kept side by side."""
        upgrade(db_url)
        store = SqlReferenceStore(make_engine(db_url))
        store.record([PriceUpdate("AAPL", 50.0, T0, "feed:adam")], T0)
        store.record([PriceUpdate("AAPL", 10.0, T0 - 1, "file:old.csv")], T0)  # older: ignored
        store.record([PriceUpdate("AAPL", 0.10, T0 + 1, FILL_SOURCE)], T0)
        fill, market = store.latest("AAPL")
        assert market == PriceUpdate("AAPL", 50.0, T0, "feed:adam")
        assert fill == PriceUpdate("AAPL", 0.10, T0 + 1, FILL_SOURCE)
        assert store.latest("MSFT") == (None, None)
        store.engine.dispose()

    def test_a_batch_repeating_a_symbol_keeps_its_latest(self, db_url: str) -> None:
        """Two rows for one symbol in one batch: the later ts is stored (one transaction)."""
        upgrade(db_url)
        store = SqlReferenceStore(make_engine(db_url))
        store.record(
            [
                PriceUpdate("MSFT", 400.0, T0 + 5, "feed:adam"),
                PriceUpdate("MSFT", 390.0, T0, "feed:adam"),
                PriceUpdate("AAPL", 190.0, T0, "feed:adam"),
            ],
            T0,
        )
        assert [(u.symbol, u.price) for u in store.all()] == [("AAPL", 190.0), ("MSFT", 400.0)]
        store.engine.dispose()


class TestFutureDatedRows:
    def test_a_stored_future_dated_price_is_replaced_by_a_correct_one(self, db_url: str) -> None:
        """A price stored dated 2062 (a typo'd year) does not win for ever: the next write replaces it."""
        upgrade(db_url)
        store = SqlReferenceStore(make_engine(db_url))
        store.record([PriceUpdate("XYZ", 0.5, parse_ts("2062-11-20T21:00:00Z"), "feed:adam")], T0)
        store.record([PriceUpdate("XYZ", 500.0, T0, "feed:adam")], T0)
        assert store.latest("XYZ")[1] == PriceUpdate("XYZ", 500.0, T0, "feed:adam")
        store.engine.dispose()

    def test_a_price_slightly_ahead_still_beats_an_older_one(self, db_url: str) -> None:
        """Within the clock-skew allowance a stored price is a later price: an older one changes nothing."""
        upgrade(db_url)
        store = SqlReferenceStore(make_engine(db_url))
        store.record([PriceUpdate("XYZ", 50.0, T0 + MAX_AHEAD_NS, "feed:adam")], T0)
        store.record([PriceUpdate("XYZ", 10.0, T0, "feed:adam")], T0)
        assert store.latest("XYZ")[1] == PriceUpdate("XYZ", 50.0, T0 + MAX_AHEAD_NS, "feed:adam")
        store.engine.dispose()


class TestRestart:
    def test_a_published_price_still_values_a_sell_after_a_restart(
        self, firm: FirmConfig, db_url: str
    ) -> None:
        """Published before the restart, the feed price makes the dump APPROVAL_REQUIRED after it."""
        upgrade(db_url)
        first = stack_on(firm, db_url)
        first.controls.reference_prices.publish([PriceUpdate("NVDA", 50.0, T0 - 60, "feed:adam")], T0)
        restarted = stack_on(firm, db_url)
        basis = restarted.controls.notional_of(DUMP)
        assert basis.notional == 9_000_000 * 50.0
        assert basis.priced
        decision = restarted.gate.submit(DUMP).decision
        assert decision.reason is ReasonCode.APPROVAL_REQUIRED
        assert "uses reference price 50 (feed:adam at ts" in decision.message

    def test_the_desks_fills_are_kept_over_a_restart(self, firm: FirmConfig, db_url: str) -> None:
        """A fill seen before the restart (written on flush) is the reference of a sell after it."""
        upgrade(db_url)
        first = stack_on(firm, db_url)
        first.controls.reference_prices.observe("NVDA", 120.0, T0 - 5)
        first.controls.reference_prices.flush()
        restarted = stack_on(firm, db_url)
        reference = restarted.controls.reference_prices.get("NVDA")
        assert reference is not None
        assert reference.price == 120.0
        assert reference.source == f"last fill seen by the desk at ts {T0 - 5}"
        assert restarted.controls.is_large(order("S-1", side=Side.SELL, qty=10_000, price=0.1, symbol="NVDA"))

    def test_another_process_writes_arrive_after_the_refresh(self, firm: FirmConfig, db_url: str) -> None:
        """A price stored by someone else (the CLI's load) is read once the cached read is a second old."""
        upgrade(db_url)
        now = [0]
        store = SqlReferenceStore(make_engine(db_url))
        prices = ReferencePrices(store=store, clock=lambda: now[0])
        assert prices.get("NVDA") is None
        store.record([PriceUpdate("NVDA", 50.0, T0, "file:eod.csv")], T0)
        assert prices.get("NVDA") is None  # cached for refresh_ns
        now[0] += 1_000_000_000
        held = prices.get("NVDA")
        assert held is not None
        assert held.price == 50.0
        store.engine.dispose()
