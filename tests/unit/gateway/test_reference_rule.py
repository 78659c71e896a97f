"""Which reference a sell counts at, when it is trusted, and what an unpriced sell needs."""

from __future__ import annotations

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Side
from orderguard.gateway.control_notional import MAX_AHEAD_NS, ReferenceRule
from orderguard.gateway.reference_prices import FILL_SOURCE, NS_PER_SECOND, PriceUpdate, ReferencePrices
from tests.controls_support import T0, make_stack, order

DAY = 86_400 * NS_PER_SECOND
RULE = ReferenceRule(max_age_ns=DAY, unpriced_sell_max_qty=1_000)


def market(symbol: str, price: float, ts: int) -> PriceUpdate:
    return PriceUpdate(symbol, price, ts, "feed:adam")


class TestTrust:
    def test_a_fresh_market_price_vouches_for_a_sell(self) -> None:
        """A feed price an hour old is trusted: a big sell counts at it and is not 'unpriced'."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 50.0, T0 - 3600 * NS_PER_SECOND)], T0)
        basis = prices.assess(order(side=Side.SELL, qty=5_000, price=0.10))
        assert basis.priced
        assert not basis.unpriced_large
        assert basis.notional == 5_000 * 50.0

    def test_a_stale_market_price_still_raises_the_notional_but_does_not_vouch(self) -> None:
        """Two days old, the feed price still counts (it can only ask for more) and the sell is unpriced."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 50.0, T0 - 2 * DAY)], T0)
        basis = prices.assess(order(side=Side.SELL, qty=5_000, price=0.10))
        assert basis.notional == 5_000 * 50.0
        assert not basis.priced
        assert basis.unpriced_large
        assert "is stale" in basis.note(order(side=Side.SELL, qty=5_000, price=0.10))

    def test_a_fill_raises_the_notional_but_never_vouches(self) -> None:
        """A trader's own cheap fill neither replaces the market price nor makes the symbol priced."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 50.0, T0 - 2 * DAY)], T0)
        prices.observe("AAPL", 0.10, T0 - 1)  # newer than the market price, far below it
        reference, trusted = prices.reference_for("AAPL", T0)
        assert reference is not None
        assert reference.price == 50.0
        assert not trusted

    def test_the_firm_file_floor_vouches_at_any_age(self) -> None:
        """A symbol listed in the firm file is priced whatever the age of anything else."""
        prices = ReferencePrices({"AAPL": 190.0}, rule=RULE)
        basis = prices.assess(order(side=Side.SELL, qty=5_000, price=0.10))
        assert basis.priced
        assert basis.notional == 5_000 * 190.0

    def test_a_later_market_price_replaces_an_earlier_one_but_not_the_reverse(self) -> None:
        """A late, older feed message changes nothing."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 50.0, T0)], T0)
        prices.publish([market("AAPL", 10.0, T0 - 1)], T0)
        assert prices.get("AAPL") is not None
        assert prices.get("AAPL").price == 50.0  # type: ignore[union-attr]

    def test_a_market_price_dated_in_the_future_does_not_vouch(self) -> None:
        """A price dated years ahead of the order is stale (a wrong date): a big sell is unpriced."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 0.5, T0 + 36 * 365 * DAY)], T0)
        basis = prices.assess(order(side=Side.SELL, qty=5_000, price=0.10))
        assert not basis.priced
        assert basis.unpriced_large
        assert "is stale" in basis.note(order(side=Side.SELL, qty=5_000, price=0.10))

    def test_a_market_price_a_little_ahead_of_the_order_still_vouches(self) -> None:
        """Clock skew: a feed price up to MAX_AHEAD_NS after the order's time is trusted; beyond, not."""
        prices = ReferencePrices(rule=RULE)
        prices.publish([market("AAPL", 50.0, T0 + MAX_AHEAD_NS)], T0)
        assert prices.reference_for("AAPL", T0)[1]
        assert not prices.reference_for("AAPL", T0 - 1)[1]


class TestUnpricedSells:
    def test_a_sell_above_the_cap_with_no_price_is_unpriced_large(self) -> None:
        """No reference at all: above the quantity cap a sell is marked for approval; at the cap it is not."""
        prices = ReferencePrices(rule=RULE)
        assert prices.assess(order(side=Side.SELL, qty=1_001, price=0.10)).unpriced_large
        assert not prices.assess(order(side=Side.SELL, qty=1_000, price=0.10)).unpriced_large

    def test_a_buy_is_never_unpriced(self) -> None:
        """A buy counts at its limit (it cannot fill above it): no reference is looked up."""
        basis = ReferencePrices(rule=RULE).assess(order(side=Side.BUY, qty=9_000_000, price=0.10))
        assert basis.priced
        assert not basis.unpriced_large

    def test_the_firm_file_sets_the_rule(self, firm: FirmConfig) -> None:
        """[controls] reference_max_age_seconds and unpriced_sell_max_qty reach the controls."""
        tight = firm.model_copy(
            update={
                "controls": firm.controls.model_copy(
                    update={"reference_max_age_seconds": 60.0, "unpriced_sell_max_qty": 10.0}
                )
            }
        )
        s, _, _ = make_stack(tight)
        assert s.controls.reference_prices.rule == ReferenceRule(60 * NS_PER_SECOND, 10.0)
        decision = s.gate.submit(order("U-1", side=Side.SELL, qty=11, price=1.0)).decision
        assert decision.reason is ReasonCode.APPROVAL_REQUIRED


class TestOncePerOrder:
    def test_the_notional_is_worked_out_once_per_order(self, firm: FirmConfig) -> None:
        """is_large, approval_content and the check reuse one answer for one ticket, even if prices move."""
        s, _, _ = make_stack(firm)
        controls = s.controls
        dump = order("ONCE-1", side=Side.SELL, qty=50_000, price=0.10)
        assert not controls.is_large(dump)
        controls.reference_prices.observe("AAPL", 190.0, T0)  # the reference moves mid-order
        assert controls.notional_of(dump) is controls.notional_of(dump)
        assert not controls.is_large(dump)
        assert controls.check(dump).decision.allowed
        again = order("ONCE-1", side=Side.SELL, qty=50_000, price=0.10)  # a new ticket is worked out anew
        assert controls.is_large(again)

    def test_fills_are_written_only_with_a_store(self) -> None:
        """Without a store nothing is queued for writing (fills are held in memory only)."""
        prices = ReferencePrices()
        prices.observe("AAPL", 10.0, T0)
        prices.flush()
        held = prices.get("AAPL")
        assert held is not None
        assert held.source.startswith("last fill seen by the desk")
        assert PriceUpdate("AAPL", 10.0, T0, FILL_SOURCE).kind == "fill"
        assert market("AAPL", 10.0, T0).kind == "market"
