"""structuring's edges, checked through both engines at once (the firm's four-eyes threshold is 1,000,000)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import EventKind
from orderguard.surveillance.detectors._structuring_columns import window_starts
from orderguard.surveillance.stream import StreamEngine
from tests.unit.surveillance.helpers import SECOND, Events, batch_alerts, stream_alerts


def both(firm: FirmConfig, b: Events) -> list[Alert]:
    """structuring's alerts, after checking that stream and batch agree record for record."""
    streamed = stream_alerts(firm, b.events, rules=("structuring",))
    batched = batch_alerts(firm, b.events, rules=("structuring",))
    assert sorted(a.to_record().items() for a in batched) == sorted(a.to_record().items() for a in streamed)
    return streamed


def split(b: Events, times: list[float], qty: float = 4000, **kw: object) -> list[str]:
    """bob's buy orders of AAPL at 100.0 (400,000 each by default) at the given seconds."""
    fields: dict[str, object] = {
        "price": 100.0,
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": "buy",
    } | kw
    start = len(b.events)
    return [
        b.add(EventKind.CLIENT_ORDER, at, "bob", order_id=f"O{start + n}", qty=qty, **fields).event_id
        for n, at in enumerate(times)
    ]


def with_reference(firm: FirmConfig, symbol: str, price: float) -> FirmConfig:
    return firm.model_copy(update={"reference_prices": {symbol: price}})


class TestBurst:
    def test_three_orders_above_threshold_alert_once_naming_all(self, firm: FirmConfig) -> None:
        """Three orders of 400,000 within the window alert at the third, naming all three."""
        b = Events()
        ids = split(b, [0, 60, 120])
        [alert] = both(firm, b)
        assert alert.event_ids == tuple(ids)
        assert alert.actor == "bob"
        assert alert.symbol == "AAPL"
        assert alert.ts == b.events[-1].ts
        assert "3 buy orders of AAPL" in alert.explanation
        assert "1,200,000.00 together" in alert.explanation

    def test_sum_exactly_at_threshold_is_silent(self, firm: FirmConfig) -> None:
        """Orders summing to exactly the threshold would not have needed approval as one: no alert."""
        b = Events()
        split(b, [0, 60], qty=3000)
        split(b, [120], qty=4000)
        assert both(firm, b) == []

    def test_two_orders_are_too_few(self, firm: FirmConfig) -> None:
        """Two orders of 600,000 stay below min_orders."""
        b = Events()
        split(b, [0, 60], qty=6000)
        assert both(firm, b) == []

    @pytest.mark.parametrize(("gap", "alerts"), [(600.0, 1), (600.000000001, 0)])
    def test_window_is_inclusive(self, firm: FirmConfig, gap: float, alerts: int) -> None:
        """The first order counts when it is exactly 600 s before the last; 1 ns earlier it does not."""
        b = Events()
        split(b, [0, 300, gap])
        assert len(both(firm, b)) == alerts

    def test_opposite_sides_are_separate(self, firm: FirmConfig) -> None:
        """A sell between two buys does not make a burst of either side."""
        b = Events()
        b.order(0, "bob", "O1", "AAPL", side="buy", qty=4000, price=100.0)
        b.order(1, "bob", "O2", "AAPL", side="sell", qty=4000, price=100.0)
        b.order(2, "bob", "O3", "AAPL", side="buy", qty=4000, price=100.0)
        assert both(firm, b) == []

    def test_large_order_is_not_counted(self, firm: FirmConfig) -> None:
        """An order above the threshold went through four-eyes: it neither counts nor alerts."""
        b = Events()
        split(b, [0], qty=10001)
        split(b, [60, 120], qty=1000)
        assert both(firm, b) == []

    def test_equal_timestamps_follow_seq(self, firm: FirmConfig) -> None:
        """Orders at one instant form a burst at the third by seq."""
        b = Events()
        ids = split(b, [0, 0, 0])
        [alert] = both(firm, b)
        assert alert.event_ids == tuple(ids)


# Notionals (qty 1) whose sum, added one by one in floats, falls on the wrong side of the 1,000,000
# threshold: above it while the correctly rounded sum (math.fsum) is exactly 1,000,000, and the reverse.
FLOAT_ABOVE_EXACT_AT = [247847.1316931816, 249704.9466857573, 243884.1917883943, 258563.72983266678]
FLOAT_AT_EXACT_ABOVE = [
    198219.34207987782,
    196475.77811255667,
    165392.25335338403,
    161556.27045785708,
    278356.3559963245,
]


def running_sum(values: list[float]) -> float:
    total = 0.0
    for value in values:
        total += value
    return total


class TestFloatEdge:
    @pytest.mark.parametrize("lead", [False, True])
    def test_float_sum_above_but_exact_sum_at_threshold_is_silent(self, firm: FirmConfig, lead: bool) -> None:
        """A window whose running float sum passes the threshold but whose exact sum does not is no burst
        (also after an earlier order left the running sum with its rounding)."""
        assert running_sum(FLOAT_ABOVE_EXACT_AT) > 1e6 >= math.fsum(FLOAT_ABOVE_EXACT_AT)
        b = Events()
        if lead:
            b.order(0, "bob", "OL", "AAPL", side="buy", qty=1, price=0.1)
        for n, value in enumerate(FLOAT_ABOVE_EXACT_AT):
            b.order(590 + 10 * n, "bob", f"O{n}", "AAPL", side="buy", qty=1, price=value)
        assert both(firm, b) == []

    @pytest.mark.parametrize("lead", [False, True])
    def test_float_sum_at_but_exact_sum_above_threshold_alerts(self, firm: FirmConfig, lead: bool) -> None:
        """A window whose running float sum stays at the threshold but whose exact sum is above it is a
        burst, naming its orders only (not one that has left the window)."""
        assert running_sum(FLOAT_AT_EXACT_ABOVE) <= 1e6 < math.fsum(FLOAT_AT_EXACT_ABOVE)
        b = Events()
        if lead:
            b.order(0, "bob", "OL", "AAPL", side="buy", qty=1, price=0.1)
        ids = [
            b.order(590 + 10 * n, "bob", f"O{n}", "AAPL", side="buy", qty=1, price=value).event_id
            for n, value in enumerate(FLOAT_AT_EXACT_ABOVE)
        ]
        [alert] = both(firm, b)
        assert alert.event_ids == tuple(ids)


class TestGrowth:
    def test_later_orders_of_an_open_burst_do_not_alert_again(self, firm: FirmConfig) -> None:
        """A fourth and fifth order continuing the burst add no alert."""
        b = Events()
        split(b, [0, 60, 120, 180, 240])
        assert len(both(firm, b)) == 1

    def test_a_new_burst_after_the_window_empties_alerts_again(self, firm: FirmConfig) -> None:
        """Once no earlier order is left in the window, a new burst is a new alert."""
        b = Events()
        split(b, [0, 60, 120])
        later = split(b, [1000, 1060, 1120])
        alerts = both(firm, b)
        assert len(alerts) == 2
        assert alerts[1].event_ids == tuple(later)


class TestKey:
    def test_accounts_of_one_beneficial_owner_are_one_client(self, firm: FirmConfig) -> None:
        """Orders split across two accounts of Quartz Holdings make one burst, naming both accounts."""
        b = Events()
        split(b, [0, 120], account="C-HEDGE-1")
        split(b, [60], account="C-HEDGE-2")
        [alert] = both(firm, b)
        assert "2 accounts (C-HEDGE-1, C-HEDGE-2)" in alert.explanation

    def test_different_clients_are_different_orders(self, firm: FirmConfig) -> None:
        """Orders for two unrelated clients do not add up."""
        b = Events()
        split(b, [0, 120], account="C-PENSION-1")
        split(b, [60], account="C-FAMILY-1")
        assert both(firm, b) == []

    def test_different_traders_do_not_add_up(self, firm: FirmConfig) -> None:
        """Each trader's orders are their own: bob's two and alice's one are no burst."""
        b = Events()
        split(b, [0, 60])
        b.order(120, "alice", "OA", "AAPL", side="buy", qty=4000, price=100.0)
        assert both(firm, b) == []

    def test_an_amend_replaces_the_order(self, firm: FirmConfig) -> None:
        """A client order re-sent under the same order id counts once, at its latest size."""
        b = Events()
        b.order(0, "bob", "O1", "AAPL", side="buy", qty=4000, price=100.0)
        b.order(30, "bob", "O1", "AAPL", side="buy", qty=4500, price=100.0)
        b.order(60, "bob", "O2", "AAPL", side="buy", qty=4000, price=100.0)
        assert both(firm, b) == []
        third = b.order(90, "bob", "O3", "AAPL", side="buy", qty=2000, price=100.0)
        [alert] = both(firm, b)
        assert alert.event_ids == ("e2", "e3", third.event_id)


class TestValuation:
    def test_order_without_price_or_reference_is_left_out(self, firm: FirmConfig) -> None:
        """An order that cannot be valued does not count."""
        b = Events()
        split(b, [0, 60])
        b.order(120, "bob", "OX", "AAPL", side="buy", qty=4000)
        assert both(firm, b) == []

    def test_order_without_price_uses_the_reference_price(self, firm: FirmConfig) -> None:
        """With [reference_prices], an order without a price is valued at the reference."""
        b = Events()
        split(b, [0, 60])
        b.order(120, "bob", "OX", "AAPL", side="buy", qty=4000)
        assert len(both(with_reference(firm, "AAPL", 100.0), b)) == 1

    def test_sell_counts_at_the_higher_reference(self, firm: FirmConfig) -> None:
        """A sell limit far below the reference counts at the reference, as four-eyes counts it."""
        b = Events()
        for n in range(3):
            b.order(60 * n, "bob", f"O{n}", "AAPL", side="sell", qty=4000, price=1.0)
        assert both(firm, b) == []
        assert len(both(with_reference(firm, "AAPL", 100.0), b)) == 1

    def test_threshold_is_the_four_eyes_threshold(self, firm: FirmConfig) -> None:
        """Raising [controls] large_order_notional raises the burst threshold with it."""
        b = Events()
        split(b, [0, 60, 120])
        controls = firm.controls.model_copy(update={"large_order_notional": 1_200_000.0})
        assert both(firm.model_copy(update={"controls": controls}), b) == []


class TestStreamState:
    def test_snapshot_mid_burst_continues(self, firm: FirmConfig) -> None:
        """A stream restored between the second and third order still alerts at the third."""
        b = Events()
        split(b, [0, 60, 120])
        first = StreamEngine(firm, rules=("structuring",))
        for event in b.events[:2]:
            assert first.observe(event) == []
        second = StreamEngine(firm, rules=("structuring",))
        second.restore(first.snapshot())
        assert len(second.observe(b.events[2])) == 1

    def test_state_is_dropped_after_the_window(self, firm: FirmConfig) -> None:
        """Windows and order ids of orders older than the window are swept away."""
        b = Events()
        split(b, [0, 60])
        b.order(5000, "alice", "OZ", "MSFT", side="buy", qty=1, price=1.0)
        engine = StreamEngine(firm, rules=("structuring",))
        for event in b.events:
            engine.observe(event)
        [detector] = engine.detectors
        assert list(detector.state["windows"]) == [("alice", "Harbor Pension Fund", "MSFT", "buy")]
        assert list(detector.state["live"]) == ["OZ"]
        assert b.events[-1].ts - b.events[0].ts > 600 * SECOND


class TestWindowStarts:
    @pytest.mark.parametrize("scale", [1, 1 << 58])
    def test_matches_a_plain_search_per_run(self, scale: int) -> None:
        """Per row, the first row of its run at most the window earlier, whether keys fit 62 bits or not."""
        run = np.array([0, 0, 0, 0, 3, 3, 7], dtype=np.int64)
        since = np.array([0, 5, 10, 16, 0, 11, 0], dtype=np.int64) * scale
        window = 10 * scale
        expected = [
            min(j for j in range(len(run)) if run[j] == run[i] and since[j] >= since[i] - window)
            for i in range(len(run))
        ]
        assert window_starts(run, since, window).tolist() == expected == [0, 0, 0, 2, 4, 5, 6]
