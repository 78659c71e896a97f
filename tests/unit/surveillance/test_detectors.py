"""Each detector's edges (<= vs <, equal timestamps), checked through both engines at once."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import EventKind, parse_ts
from tests.unit.surveillance.helpers import SECOND, T0, Events, batch_alerts, stream_alerts


def both(firm: FirmConfig, b: Events, rule: str) -> list[Alert]:
    """The alerts of one rule, after checking that stream and batch agree exactly."""
    streamed = stream_alerts(firm, b.events, rules=(rule,))
    batched = batch_alerts(firm, b.events, rules=(rule,))
    assert sorted(a.alert_id for a in batched) == sorted(a.alert_id for a in streamed)
    assert {a.alert_id: a for a in batched} == {a.alert_id: a for a in streamed}
    return streamed


class TestFrontRunning:
    @pytest.mark.parametrize(("lead", "alerts"), [(60.0, 1), (60.000000001, 0), (0.0, 1)])
    def test_lead_window_is_inclusive(self, firm: FirmConfig, lead: float, alerts: int) -> None:
        """A personal trade at most 60 s before the client order alerts; 1 ns more does not."""
        b = Events()
        b.personal(0, "alice", "AAPL", "buy", 10)
        b.order(lead, "bob", "O1", "AAPL", side="buy", qty=1001)
        assert len(both(firm, b, "front_running")) == alerts

    @pytest.mark.parametrize(("qty", "alerts"), [(1000.0, 0), (1000.5, 1)])
    def test_ratio_is_strict(self, firm: FirmConfig, qty: float, alerts: int) -> None:
        """A client order exactly 100x the personal trade does not alert; more than 100x does."""
        b = Events()
        b.personal(0, "alice", "AAPL", "buy", 10)
        b.order(30, "bob", "O1", "AAPL", side="buy", qty=qty)
        assert len(both(firm, b, "front_running")) == alerts

    def test_opposite_side_is_silent(self, firm: FirmConfig) -> None:
        """A personal sale before a large client buy is not front running."""
        b = Events()
        b.personal(0, "alice", "AAPL", "sell", 10)
        b.order(30, "bob", "O1", "AAPL", side="buy", qty=5000)
        assert both(firm, b, "front_running") == []

    def test_related_instrument_while_working(self, firm: FirmConfig) -> None:
        """An option bought while a large order in the underlying is partly filled alerts, naming both."""
        b = Events()
        order = b.order(0, "bob", "O1", "AAPL", side="buy", qty=5000)
        b.execution(10, "O1", "AAPL", "buy", 1000)
        trade = b.personal(20, "tom", "AAPL-OPT", "buy", 10)
        [alert] = both(firm, b, "front_running")
        assert alert.event_ids == (order.event_id, trade.event_id)
        assert alert.actor == "tom"
        assert "still working" in alert.explanation

    @pytest.mark.parametrize("end", ["fill", "cancel", "amend"])
    def test_order_no_longer_working(self, firm: FirmConfig, end: str) -> None:
        """After a full fill, a cancel or an amend of the order, a personal trade does not alert on it."""
        b = Events()
        b.order(0, "bob", "O1", "AAPL", side="buy", qty=5000)
        if end == "fill":
            b.execution(10, "O1", "AAPL", "buy", 2000)
            b.execution(11, "O1", "AAPL", "buy", 3000)
        elif end == "cancel":
            b.add(EventKind.ORDER_CANCEL, 10, "bob", order_id="O1")
        else:
            b.order(10, "bob", "O1", "AAPL", side="buy", qty=20)
        b.personal(100, "tom", "AAPL", "buy", 10)
        assert both(firm, b, "front_running") == []

    def test_equal_timestamps_follow_seq(self, firm: FirmConfig) -> None:
        """At one timestamp, a trade after the order (by seq) is 'while working', before it is 'before'."""
        b = Events()
        b.personal(0, "alice", "AAPL", "buy", 10)
        b.order(0, "bob", "O1", "AAPL", side="buy", qty=5000)
        b.personal(0, "tom", "AAPL", "buy", 10)
        modes = sorted(
            a.explanation.split(" ")[0] + (" working" if "working" in a.explanation else " before")
            for a in both(firm, b, "front_running")
        )
        assert modes == ["alice before", "tom working"]


class TestCopyTrading:
    @pytest.mark.parametrize(("lag", "alerts"), [(300.0, 1), (300.000000001, 0)])
    def test_handler_within_lag(self, firm: FirmConfig, lag: float, alerts: int) -> None:
        """The trader who handled an order and trades the same way at most 300 s after its fill alerts."""
        b = Events()
        b.order(0, "bob", "O1", "MSFT", side="sell", qty=3000)
        b.execution(60, "O1", "MSFT", "sell", 3000)
        b.personal(60 + lag, "bob", "MSFT", "sell", 50)
        assert len(both(firm, b, "copy_trading")) == alerts

    def test_viewer_of_order_or_account(self, firm: FirmConfig) -> None:
        """A view of the order (or of its account) between order and trade makes the viewer a suspect."""
        b = Events()
        order = b.order(0, "bob", "O1", "MSFT", side="buy", qty=3000)
        view = b.view(5, "alice", account="C-PENSION-1")
        fill = b.execution(60, "O1", "MSFT", "buy", 3000)
        trade = b.personal(100, "alice", "MSFT", "buy", 50)
        [alert] = both(firm, b, "copy_trading")
        assert alert.event_ids == (order.event_id, view.event_id, fill.event_id, trade.event_id)

    def test_stranger_is_silent(self, firm: FirmConfig) -> None:
        """Someone who neither handled nor viewed the order may trade the same way."""
        b = Events()
        b.order(0, "bob", "O1", "MSFT", side="buy", qty=3000)
        b.execution(60, "O1", "MSFT", "buy", 3000)
        b.personal(100, "alice", "MSFT", "buy", 50)
        b.view(101, "alice", order_id="O1")
        assert both(firm, b, "copy_trading") == []


class TestWashTrading:
    @pytest.mark.parametrize(
        ("gap", "qty", "alerts"), [(60.0, 110.0, 1), (60.000000001, 100.0, 0), (1.0, 112.0, 0)]
    )
    def test_window_and_tolerance(self, firm: FirmConfig, gap: float, qty: float, alerts: int) -> None:
        """Opposite trades of one owner's accounts alert within 60 s and 10% of the larger quantity."""
        b = Events()
        b.execution(0, "W1", "AAPL", "buy", 100, account="C-HEDGE-1")
        b.execution(gap, "W2", "AAPL", "sell", qty, account="C-HEDGE-2")
        assert len(both(firm, b, "wash_trading")) == alerts

    @pytest.mark.parametrize(("first", "second"), [("C-HEDGE-1", "C-HEDGE-1"), ("C-HEDGE-1", "C-PENSION-1")])
    def test_needs_two_accounts_of_one_owner(self, firm: FirmConfig, first: str, second: str) -> None:
        """The same account, or accounts of different owners, are not a wash trade."""
        b = Events()
        b.execution(0, "W1", "AAPL", "buy", 100, account=first)
        b.execution(1, "W2", "AAPL", "sell", 100, account=second)
        assert both(firm, b, "wash_trading") == []

    def test_employee_own_accounts(self, firm: FirmConfig) -> None:
        """Two personal accounts of one employee trading against each other alert."""
        b = Events()
        b.add(
            EventKind.PERSONAL_TRADE,
            0,
            "tom",
            account="PA-tom",
            symbol="AAPL",
            side="sell",
            qty=100,
            price=1.0,
        )
        b.add(
            EventKind.PERSONAL_TRADE,
            5,
            "tom",
            account="PA-tom-ira",
            symbol="AAPL",
            side="buy",
            qty=95,
            price=1.0,
        )
        [alert] = both(firm, b, "wash_trading")
        assert "belong to tom" in alert.explanation


class TestSingleEventRules:
    @pytest.mark.parametrize(("price", "alerts"), [(100.0, 0), (100.00001, 1)])
    def test_large_personal_trade_above_limit(self, firm: FirmConfig, price: float, alerts: int) -> None:
        """A notional of exactly $100,000 is not above the limit; a cent more is."""
        b = Events()
        b.personal(0, "alice", "AAPL", "buy", 1000, price=price)
        found = both(firm, b, "large_personal_trade")
        assert len(found) == alerts
        assert all(a.action == "alert_compliance" for a in found)

    @pytest.mark.parametrize(("venue", "alerts"), [("DARK-X", 1), ("NOWHERE", 1), ("XNYS", 0)])
    def test_unusual_route(self, firm: FirmConfig, venue: str, alerts: int) -> None:
        """Executions at a venue that is unapproved or unknown alert with block_and_alert."""
        b = Events()
        b.execution(0, "O1", "AAPL", "buy", 10, venue=venue)
        found = both(firm, b, "unusual_route")
        assert len(found) == alerts
        assert all(a.action == "block_and_alert" for a in found)


class TestAfterHours:
    @pytest.mark.parametrize(
        ("utc", "alerts"),
        [
            ("2026-11-21T02:59:59.999999999Z", 0),  # Friday 21:59:59.999999999 New York
            ("2026-11-21T03:00:00Z", 1),  # Friday 22:00:00
            ("2026-11-20T10:59:59Z", 1),  # Friday 05:59:59
            ("2026-11-20T11:00:00Z", 0),  # Friday 06:00:00
            ("2026-11-21T17:00:00Z", 1),  # Saturday noon
        ],
    )
    def test_business_hours_edges(self, firm: FirmConfig, utc: str, alerts: int) -> None:
        """Business hours are [06:00, 22:00) on weekdays, firm time; every other view alerts."""
        b = Events()
        b.view((parse_ts(utc) - T0) / SECOND, "ana")
        assert len(both(firm, b, "after_hours_access")) == alerts

    def test_sixth_view_of_the_day_is_high(self, firm: FirmConfig) -> None:
        """Views 1-5 of a local day are low; the 6th names all six and is high severity."""
        b = Events()
        start = (parse_ts("2026-11-21T04:00:00Z") - T0) / SECOND  # 23:00 New York
        views = [b.view(start + 60 * i, "ana") for i in range(6)]
        found = both(firm, b, "after_hours_access")
        assert [a.severity for a in found] == ["low"] * 5 + ["high"]
        assert found[-1].event_ids == tuple(v.event_id for v in views)


class TestQueryVolume:
    def test_fifty_records_at_eleven_pm(self, firm: FirmConfig) -> None:
        """The seed's pattern: 50 client order records at 11 PM alert (per actor and per account)."""
        b = Events()
        b.view((parse_ts("2026-11-21T04:00:00Z") - T0) / SECOND, "sam", records=50)
        found = both(firm, b, "query_volume")
        assert len(found) == 2
        assert {"across all accounts" in a.explanation for a in found} == {True, False}

    @pytest.mark.parametrize(("records", "alerts"), [(20, 0), (21, 2)])
    def test_floor_is_strict(self, firm: FirmConfig, records: int, alerts: int) -> None:
        """Without history, exactly the floor of 20 records does not alert; 21 does."""
        b = Events()
        b.view(0, "ana", records=records)
        assert len(both(firm, b, "query_volume")) == alerts

    def test_window_excludes_its_start(self, firm: FirmConfig) -> None:
        """Views exactly one window apart are not summed together."""
        b = Events()
        b.view(0, "ana", records=15)
        b.view(3600, "ana", records=15)
        assert both(firm, b, "query_volume") == []

    def test_habitual_heavy_reader_is_silent(self, firm: FirmConfig) -> None:
        """A reader who views 40 records every hour is measured against her own habit, not the floor."""
        b = Events()
        for hour in range(6):
            b.view(3600 * hour + 10, "olga", records=40)
        alerts = both(firm, b, "query_volume")
        assert {a.ts for a in alerts} == {T0 + 10 * SECOND}  # only the first hour, before any habit


class TestBulkExport:
    @pytest.mark.parametrize(("records", "alerts"), [(1000, 0), (1001, 1)])
    def test_floor(self, firm: FirmConfig, records: int, alerts: int) -> None:
        """A first export above 1,000 records alerts; exactly 1,000 does not."""
        b = Events()
        b.add(EventKind.DATA_EXPORT, 0, "dana", records=records)
        assert len(both(firm, b, "bulk_export")) == alerts

    def test_habit_raises_the_bar(self, firm: FirmConfig) -> None:
        """After exports of 3,000, one of 4,000 is habitual; one of 15,001 (above 5x) alerts."""
        b = Events()
        for i in range(3):
            b.add(EventKind.DATA_EXPORT, 3600 * i, "walt", records=3000)
        b.add(EventKind.DATA_EXPORT, 4 * 3600, "walt", records=4000)
        big = b.add(EventKind.DATA_EXPORT, 5 * 3600, "walt", records=15_001)
        found = both(firm, b, "bulk_export")
        assert [a.event_ids for a in found] == [(b.events[0].event_id,), (big.event_id,)]
