"""The large-order threshold counts a SELL at max(limit, reference), a BUY at its limit."""

from __future__ import annotations

from orderguard.approvals.model import SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import Event, EventKind, ReasonCode, Side
from orderguard.gateway.control_notional import control_notional
from orderguard.gateway.reference_prices import FIRM_FILE, ReferencePrice, ReferencePrices
from tests.controls_support import T0, make_stack, order

# The finding's attack: 9,000,000 shares at a 0.10 limit is 900,000 on the limit, ~1.7bn at the market.
DUMP = order("DUMP-1", side=Side.SELL, qty=9_000_000, price=0.10)
MARKET = ReferencePrice(190.0, FIRM_FILE)


def fill(symbol: str, price: float, ts: int) -> Event:
    return Event(f"E-{ts}", ts, EventKind.EXECUTION, "alice", symbol=symbol, qty=1.0, price=price)


class TestControlNotional:
    def test_a_sell_below_the_reference_counts_at_the_reference(self) -> None:
        """A sell limit below the reference price is counted at the reference: qty x 190."""
        basis = control_notional(DUMP, MARKET)
        assert basis.notional == 9_000_000 * 190.0
        assert basis.from_reference
        assert basis.price == 190.0

    def test_a_sell_above_the_reference_counts_at_its_limit(self) -> None:
        """A sell limit above the reference cannot fill below it, so the limit is the price used."""
        basis = control_notional(order(side=Side.SELL, qty=100, price=250.0), MARKET)
        assert basis.notional == 25_000.0
        assert not basis.from_reference

    def test_a_buy_counts_at_its_limit_whatever_the_reference(self) -> None:
        """A low buy limit cannot fill above it: the reference does not raise a buy's notional."""
        basis = control_notional(order(side=Side.BUY, qty=9_000_000, price=0.10), MARKET)
        assert basis.notional == 900_000.0
        assert not basis.from_reference
        assert basis.note(order(side=Side.BUY)) == ""

    def test_no_reference_keeps_the_limit_and_says_so(self) -> None:
        """Without a reference a sell uses its limit and the note says no reference price was available."""
        basis = control_notional(DUMP, None)
        assert basis.notional == 900_000.0
        assert "no reference price was available for AAPL" in basis.note(DUMP)


class TestReferencePrices:
    def test_the_firm_file_price_is_used_before_any_fill(self) -> None:
        """A configured symbol has the firm file's price; an unknown one has none."""
        prices = ReferencePrices({"AAPL": 190.0})
        assert prices.get("AAPL") == ReferencePrice(190.0, FIRM_FILE)
        assert prices.get("MSFT") is None

    def test_the_latest_fill_replaces_an_older_one(self) -> None:
        """A newer fill becomes the reference; a fill older than the one held is ignored."""
        prices = ReferencePrices()
        prices.observe_fills([fill("MSFT", 400.0, T0 + 2), fill("MSFT", 300.0, T0 + 1)])
        held = prices.get("MSFT")
        assert held is not None
        assert held.price == 400.0
        assert held.ts == T0 + 2
        prices.observe("MSFT", 410.0, T0 + 3)
        latest = ReferencePrice(410.0, f"last fill seen by the desk at ts {T0 + 3}", T0 + 3)
        assert prices.get("MSFT") == latest

    def test_a_fill_cannot_pull_the_reference_below_the_firm_file(self) -> None:
        """A cheap fill a trader made (a one-share sell at 0.10) does not lower the firm file's price."""
        prices = ReferencePrices({"AAPL": 190.0})
        prices.observe("AAPL", 0.10, T0)
        assert prices.get("AAPL") == ReferencePrice(190.0, FIRM_FILE)
        prices.observe("AAPL", 195.0, T0 + 1)
        held = prices.get("AAPL")
        assert held is not None
        assert held.price == 195.0

    def test_fills_without_a_usable_price_are_ignored(self) -> None:
        """A fill with no price, or a non-positive or non-finite one, leaves the reference alone."""
        prices = ReferencePrices()
        prices.observe_fills([Event("E-1", T0, EventKind.EXECUTION, "alice", symbol="AAPL", qty=1.0)])
        prices.observe("AAPL", float("nan"), T0)
        prices.observe("AAPL", 0.0, T0)
        assert prices.get("AAPL") is None


class TestThresholdInTheControls:
    def test_the_dump_needs_large_order_approval_with_a_reference(self, firm: FirmConfig) -> None:
        """The finding's sell is APPROVAL_REQUIRED and the message names the reference it used."""
        s, _, _ = make_stack(firm)
        s.controls.reference_prices.observe("AAPL", 190.0, T0 - 1)
        decision = s.gate.submit(DUMP).decision
        assert decision.reason is ReasonCode.APPROVAL_REQUIRED
        assert "uses reference price 190" in decision.message

    def test_without_a_reference_the_dump_needs_approval_as_unpriced(self, firm: FirmConfig) -> None:
        """No reference at all: 9,000,000 shares is above the unpriced quantity cap, so it needs approval."""
        s, audit, _ = make_stack(firm)
        result = s.gate.submit(DUMP)
        assert result.decision.reason is ReasonCode.APPROVAL_REQUIRED
        assert "no reference price was available" in result.decision.message
        assert "with no fresh reference price needs large-order approval" in result.decision.message
        after = audit.entries[result.audit_index].after
        assert isinstance(after, dict)
        basis = after["notional_basis"]
        assert isinstance(basis, dict)
        assert basis["reference_price"] is None
        assert basis["reference_fresh"] is False
        assert basis["control_notional"] == 900_000.0

    def test_without_a_reference_a_sell_under_the_cap_passes_and_says_why(self, firm: FirmConfig) -> None:
        """A sell at or under the unpriced cap keeps its limit's notional (residual risk), and says so."""
        s, _, _ = make_stack(firm)
        result = s.gate.submit(order("SMALL-1", side=Side.SELL, qty=100_000, price=0.10))
        assert result.go, result.decision
        assert "no reference price was available" in result.decision.message

    def test_an_approved_dump_goes_and_the_request_shows_the_reference(self, firm: FirmConfig) -> None:
        """A request opened with the controls' content carries the notional used; approved, the sell goes."""
        s, audit, _ = make_stack(firm)
        s.controls.reference_prices.observe("AAPL", 190.0, T0 - 1)
        content = s.controls.approval_content(DUMP)
        assert content["control_notional"] == 9_000_000 * 190.0
        assert str(content["reference_source"]).startswith("last fill seen by the desk")
        _, request = s.approvals.open(SensitiveAction.LARGE_ORDER, DUMP.order_id, "alice", content, T0)
        assert request is not None
        assert s.approvals.approve(request.id, "olga", request.digest, T0 + 1).allowed
        s.controls.reference_prices.observe("AAPL", 191.0, T0 + 2)  # a later fill does not make it stale
        result = s.gate.submit(DUMP)
        assert result.go, result.decision
        assert audit.entries[result.audit_index].after["approval"]["request_id"] == request.id  # type: ignore[index]

    def test_is_large_agrees_with_the_gate(self, firm: FirmConfig) -> None:
        """``is_large`` (the order desk's) is true for a sell under the unpriced cap once priced higher."""
        s, _, _ = make_stack(firm)
        under_cap = order("UNDER-1", side=Side.SELL, qty=50_000, price=0.10)
        assert not s.controls.is_large(under_cap)
        s.controls.reference_prices.observe("AAPL", 190.0, T0)
        assert s.controls.is_large(order("UNDER-2", side=Side.SELL, qty=50_000, price=0.10))
        assert s.controls.is_large(DUMP)
        assert not s.controls.is_large(order(side=Side.BUY, qty=9_000_000, price=0.10))
