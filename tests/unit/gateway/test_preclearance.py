"""Personal-trade pre-clearance: restricted list, related instruments, dynamic blackout, holding period."""

from __future__ import annotations

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, ReasonCode, Side
from orderguard.gateway.preclearance import PreClearance
from tests.controls_support import SECOND, T0, make_stack, order

DAY = 86_400 * SECOND


class TestRules:
    def test_restricted_symbol_and_related_instruments(self, firm: FirmConfig) -> None:
        """NBSC is restricted; AAPL-OPT is related to AAPL only by the firm file, not restricted."""
        s, audit, _ = make_stack(firm)
        decision, clearance = s.preclearance.request(
            "dana", "PA-dana", symbol="NBSC", side=Side.BUY, qty=1, now=T0
        )
        assert decision.reason is ReasonCode.RESTRICTED_SYMBOL
        assert clearance is None
        assert audit.last().kind == "preclearance"
        assert audit.last().action is AuditAction.DECIDED
        assert audit.last().policy_ids == ("preclearance-restricted-list",)
        restricted = firm.model_copy(
            update={"controls": firm.controls.model_copy(update={"restricted_symbols": ("AAPL",)})}
        )
        s2, _, _ = make_stack(restricted)
        related, _ = s2.preclearance.request(
            "dana", "PA-dana", symbol="AAPL-OPT", side=Side.BUY, qty=1, now=T0
        )
        assert related.reason is ReasonCode.RESTRICTED_SYMBOL

    def test_blackout_while_a_visible_client_order_works(self, firm: FirmConfig) -> None:
        """bob sits on alice's desk: while her AAPL client order works, bob cannot buy AAPL or its option."""
        s, _, _ = make_stack(firm)
        assert s.gate.submit(order("C-1", symbol="AAPL")).go
        for symbol in ("AAPL", "AAPL-OPT"):
            decision, _ = s.preclearance.request(
                "bob", "PA-bob", symbol=symbol, side=Side.BUY, qty=10, now=T0
            )
            assert decision.reason is ReasonCode.PRECLEARANCE_BLACKOUT

    def test_no_blackout_for_someone_who_could_not_see_it(self, firm: FirmConfig) -> None:
        """tom (derivatives) never saw the equities order: he may be cleared."""
        s, _, _ = make_stack(firm)
        s.gate.submit(order("C-1", symbol="AAPL"))
        decision, clearance = s.preclearance.request(
            "tom", "PA-tom", symbol="AAPL", side=Side.BUY, qty=10, now=T0
        )
        assert decision.allowed
        assert clearance is not None

    def test_a_recorded_view_puts_the_viewer_in_blackout(self, firm: FirmConfig) -> None:
        """A recorded view of an order puts the viewer in blackout for its symbol, whatever their desk."""
        s, _, _ = make_stack(firm)
        ticket = order("C-1", symbol="AAPL")
        s.gate.submit(ticket)
        s.preclearance.order_viewed("dana", "C-1")
        decision, _ = s.preclearance.request("dana", "PA-dana", symbol="AAPL", side=Side.BUY, qty=1, now=T0)
        assert decision.reason is ReasonCode.PRECLEARANCE_BLACKOUT

    def test_blackout_ends_after_the_window_once_executed(self, firm: FirmConfig) -> None:
        """An executed order keeps the blackout for the configured window, then it lifts."""
        s, _, _ = make_stack(firm)
        s.gate.submit(order("C-1", symbol="AAPL"))
        s.preclearance.client_order("C-1", "AAPL", "equities", T0, working=False)
        window = int(firm.controls.preclearance_blackout_seconds) * SECOND
        inside, _ = s.preclearance.request(
            "bob", "PA-bob", symbol="AAPL", side=Side.BUY, qty=1, now=T0 + window
        )
        after, _ = s.preclearance.request(
            "bob", "PA-bob", symbol="AAPL", side=Side.BUY, qty=1, now=T0 + window + 1
        )
        assert inside.reason is ReasonCode.PRECLEARANCE_BLACKOUT
        assert after.allowed

    def test_holding_period(self, firm: FirmConfig) -> None:
        """Selling within the holding period of a personal buy is refused; after it, allowed."""
        s, _, _ = make_stack(firm)
        s.preclearance.personal_trade_done("dana", "MSFT", Side.BUY, T0)
        days = firm.controls.holding_period_days
        early, _ = s.preclearance.request(
            "dana", "PA-dana", symbol="MSFT", side=Side.SELL, qty=1, now=T0 + DAY
        )
        late, _ = s.preclearance.request(
            "dana", "PA-dana", symbol="MSFT", side=Side.SELL, qty=1, now=T0 + days * DAY
        )
        assert early.reason is ReasonCode.HOLDING_PERIOD
        assert late.allowed

    def test_only_ones_own_personal_account(self, firm: FirmConfig) -> None:
        """Pre-clearance for someone else's account is refused."""
        s, _, _ = make_stack(firm)
        decision, _ = s.preclearance.request("dana", "PA-bob", symbol="MSFT", side=Side.BUY, qty=1, now=T0)
        assert decision.reason is ReasonCode.NOT_AUTHORIZED


class TestAtTheGate:
    def test_a_cleared_personal_trade_goes_once(self, firm: FirmConfig) -> None:
        """The clearance covers one trade up to its quantity and is spent by it."""
        s, _, _ = make_stack(firm)
        s.preclearance.request("dana", "PA-dana", symbol="MSFT", side=Side.BUY, qty=50, now=T0)
        too_big = s.gate.submit(order("P-0", actor="dana", account="PA-dana", symbol="MSFT", qty=51))
        assert too_big.decision.reason is ReasonCode.PRECLEARANCE_REQUIRED
        assert s.gate.submit(order("P-1", actor="dana", account="PA-dana", symbol="MSFT", qty=50)).go
        again = s.gate.submit(order("P-2", actor="dana", account="PA-dana", symbol="MSFT", qty=50))
        assert again.decision.reason is ReasonCode.PRECLEARANCE_REQUIRED

    def test_a_blackout_that_began_after_clearance_still_blocks(self, firm: FirmConfig) -> None:
        """Rules are re-run at trade time: a client order entered after clearance blocks the trade."""
        s, _, _ = make_stack(firm)
        s.preclearance.request("bob", "PA-bob", symbol="AAPL", side=Side.BUY, qty=5, now=T0)
        s.gate.submit(order("C-1", symbol="AAPL"))
        trade = s.gate.submit(order("P-1", actor="bob", account="PA-bob", symbol="AAPL", qty=5))
        assert trade.decision.reason is ReasonCode.PRECLEARANCE_BLACKOUT


class TestStore:
    def test_a_new_pre_clearance_over_the_same_store_keeps_everything(self, firm: FirmConfig) -> None:
        """Clearances (unspent only), the blackout book, views and positions are rebuilt from the store."""
        s, audit, _ = make_stack(firm)
        s.preclearance.request("dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=5, now=T0)
        s.preclearance.request("tom", "PA-tom", symbol="IBM", side=Side.BUY, qty=5, now=T0)
        assert s.gate.submit(order("P-1", actor="tom", account="PA-tom", symbol="IBM", qty=5)).go
        s.gate.submit(order("C-1", symbol="AAPL"))
        s.preclearance.order_viewed("dana", "C-1", T0)
        again = PreClearance(firm.controls, s.directory, firm.accounts(), audit, store=s.preclearance.store)
        assert again.cleared("dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=5, now=T0).allowed
        spent = again.cleared("tom", "PA-tom", symbol="IBM", side=Side.BUY, qty=5, now=T0)
        assert spent.reason is ReasonCode.PRECLEARANCE_REQUIRED
        viewer = again.evaluate("dana", "AAPL", Side.BUY, T0)
        assert viewer.reason is ReasonCode.PRECLEARANCE_BLACKOUT
        reverse = again.evaluate("tom", "IBM", Side.SELL, T0 + DAY)
        assert reverse.reason is ReasonCode.HOLDING_PERIOD
        assert [r.principal for r in again.history()] == ["dana", "tom"]

    def test_order_done_starts_the_blackout_window(self, firm: FirmConfig) -> None:
        """A working order blacks out indefinitely; once done, the blackout lifts a window later."""
        s, _, _ = make_stack(firm)
        s.gate.submit(order("C-1", symbol="AAPL"))
        window = int(firm.controls.preclearance_blackout_seconds) * SECOND
        late = T0 + 10 * window
        assert (
            s.preclearance.evaluate("bob", "AAPL", Side.BUY, late).reason is ReasonCode.PRECLEARANCE_BLACKOUT
        )
        s.preclearance.order_done("C-1", late)
        s.preclearance.order_done("C-UNKNOWN", late)  # not in the book: nothing to end
        assert not s.preclearance.evaluate("bob", "AAPL", Side.BUY, late + window).allowed
        assert s.preclearance.evaluate("bob", "AAPL", Side.BUY, late + window + 1).allowed

    def test_a_personal_trade_records_the_pre_clearance_rules(self, firm: FirmConfig) -> None:
        """The gate's entry for a personal trade names Cedar's policy and the pre-clearance rules."""
        s, audit, _ = make_stack(firm)
        refused = s.gate.submit(order("P-0", actor="dana", account="PA-dana", symbol="MSFT", qty=1))
        assert audit.entries[refused.audit_index].policy_ids == (
            "own-personal-account-orders",
            "preclearance-required",
        )
        s.preclearance.request("dana", "PA-dana", symbol="MSFT", side=Side.BUY, qty=1, now=T0)
        went = s.gate.submit(order("P-1", actor="dana", account="PA-dana", symbol="MSFT", qty=1))
        assert went.go
        assert audit.entries[went.audit_index].policy_ids == (
            "own-personal-account-orders",
            "preclearance-restricted-list",
            "preclearance-blackout",
            "preclearance-holding-period",
        )
