"""The heart of the surveillance contract: stream and batch give identical alerts on any event stream."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind, Side, parse_ts
from orderguard.surveillance.custom_rules import DEFAULT_RULES, load_rules
from orderguard.surveillance.stream import StreamEngine
from tests.unit.surveillance.helpers import SECOND, batch_alerts, stream_alerts

# 21:58 in New York: steps cross the 22:00 business-hours edge and the hour buckets.
BASE = parse_ts("2026-11-21T02:58:00Z")
STEPS_S = (0, 0, 0, 1, 1, 59, 60, 61, 299, 300, 301, 3599, 3600)
ACTORS = ("alice", "bob", "tom")
KINDS = (
    *[EventKind.PERSONAL_TRADE] * 4,
    *[EventKind.CLIENT_ORDER] * 3,
    *[EventKind.EXECUTION] * 4,
    *[EventKind.ORDER_VIEW] * 4,
    EventKind.ORDER_CANCEL,
    EventKind.DATA_EXPORT,
    EventKind.ROUTE_CHANGE,
    EventKind.LOGIN,
)
# Per kind: the accounts and quantities that make matches (and near misses) likely.
ACCOUNTS = {
    EventKind.PERSONAL_TRADE: ("PA-alice", "PA-tom", "PA-tom-ira"),
    EventKind.EXECUTION: ("C-HEDGE-1", "C-HEDGE-2", "PA-tom", "PA-tom-ira", "F-PROP-1"),
}
CLIENT_ACCOUNTS = ("C-HEDGE-1", "C-HEDGE-2", "C-PENSION-1")
QTYS = {
    EventKind.PERSONAL_TRADE: (9.0, 10.0, 11.0, 11.5, 2000.0),
    EventKind.CLIENT_ORDER: (999.0, 1000.0, 1001.0, 1100.0, 5000.0),
    EventKind.EXECUTION: (10.0, 11.0, 500.0, 999.0, 1000.0, 1001.0),
}
RECORDS = (0, 1, 5, 19, 20, 21, 50, 1000, 1001, 5000)


# Few ids: amends and events before their order are common. Many ids: most ids name one order.
FEW_IDS = ("O1", "O2", "O3")
MANY_IDS = tuple(f"O{n}" for n in range(1, 13))


@st.composite
def event_streams(draw: st.DrawFn, ids: tuple[str, ...] = FEW_IDS) -> list[Event]:
    count = draw(st.integers(min_value=1, max_value=40))
    ts = BASE
    events = []
    for n in range(1, count + 1):
        ts += draw(st.sampled_from(STEPS_S)) * SECOND + draw(st.sampled_from((0, 0, 1)))
        kind = draw(st.sampled_from(KINDS))
        order_ids: tuple[str | None, ...] = ids
        if kind is EventKind.ORDER_VIEW:
            order_ids = (*ids[:2], None, None)
        events.append(
            Event(
                event_id=f"e{n}",
                ts=ts,
                kind=kind,
                actor=draw(st.sampled_from(ACTORS)),
                seq=n,
                account=draw(st.sampled_from(ACCOUNTS.get(kind, CLIENT_ACCOUNTS))),
                symbol=draw(st.sampled_from(("AAPL", "AAPL", "AAPL-OPT", "MSFT"))),
                side=draw(st.sampled_from((Side.BUY, Side.SELL))),
                qty=draw(st.sampled_from(QTYS.get(kind, (10.0, 1000.0)))),
                price=draw(st.sampled_from((10.0, 100.0))),
                venue=draw(st.sampled_from(("XNYS", "XNYS", "DARK-X", None))),
                order_id=draw(st.sampled_from(order_ids)),
                records=draw(st.sampled_from(RECORDS)),
            )
        )
    return events


def as_records(alerts: list[Alert]) -> Counter[str]:
    return Counter(json.dumps(a.to_record(), sort_keys=True) for a in alerts)


class TestEnginesAgree:
    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(events=event_streams())
    def test_same_alerts(self, firm: FirmConfig, events: list[Event]) -> None:
        """On any event stream, the batch engine's alerts equal the stream engine's, record for record."""
        batched = batch_alerts(firm, events, custom=load_rules(DEFAULT_RULES))
        assert as_records(batched) == as_records(
            stream_alerts(firm, events, custom=load_rules(DEFAULT_RULES))
        )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(events=event_streams(ids=MANY_IDS))
    def test_same_alerts_with_many_order_ids(self, firm: FirmConfig, events: list[Event]) -> None:
        """With many order ids, most carried by one client order, the engines still agree exactly."""
        assert as_records(batch_alerts(firm, events)) == as_records(stream_alerts(firm, events))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(events=event_streams(), cut=st.integers(min_value=0, max_value=40))
    def test_restart_from_snapshot(self, firm: FirmConfig, events: list[Event], cut: int) -> None:
        """A stream stopped anywhere and restored from a snapshot elsewhere alerts as if never stopped."""
        first = StreamEngine(firm)
        alerts = [a for e in events[:cut] for a in first.observe(e)]
        second = StreamEngine(firm)
        second.restore(first.snapshot())
        alerts += [a for e in events[cut:] for a in second.observe(e)]
        assert as_records(alerts) == as_records(stream_alerts(firm, events))


# structuring: client orders of 100,000 to 1,000,100 against the 1,000,000 threshold, steps at the
# 600 s window's edges, repeated order ids (amends), one owner's two accounts, orders without a price.
ORDER_STEPS_S = (0, 0, 0, 1, 299, 300, 599, 600, 601)
ORDER_QTYS = (1000.0, 3000.0, 3333.0, 3334.0, 4000.0, 10000.0, 10001.0)


@st.composite
def order_streams(draw: st.DrawFn) -> list[Event]:
    count = draw(st.integers(min_value=1, max_value=30))
    ts = BASE
    events = []
    for n in range(1, count + 1):
        ts += draw(st.sampled_from(ORDER_STEPS_S)) * SECOND + draw(st.sampled_from((0, 0, 1)))
        events.append(
            Event(
                event_id=f"e{n}",
                ts=ts,
                kind=EventKind.CLIENT_ORDER,
                actor=draw(st.sampled_from(("bob", "bob", "alice"))),
                seq=n,
                account=draw(st.sampled_from(CLIENT_ACCOUNTS)),
                symbol=draw(st.sampled_from(("AAPL", "AAPL", "MSFT"))),
                side=draw(st.sampled_from((Side.BUY, Side.BUY, Side.SELL))),
                qty=draw(st.sampled_from(ORDER_QTYS)),
                price=draw(st.sampled_from((100.0, 100.0, 99.99, None))),
                venue="XNYS",
                order_id=draw(st.sampled_from(MANY_IDS)),
            )
        )
    return events


class TestStructuringEnginesAgree:
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(events=order_streams())
    def test_same_alerts(self, firm: FirmConfig, events: list[Event]) -> None:
        """On bursts of client orders around the threshold and window edges, both engines alert alike."""
        priced = firm.model_copy(update={"reference_prices": {"AAPL": 100.0}})
        for config in (firm, priced):
            batched = batch_alerts(config, events, rules=("structuring",))
            assert as_records(batched) == as_records(stream_alerts(config, events, rules=("structuring",)))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(events=order_streams(), cut=st.integers(min_value=0, max_value=30))
    def test_restart_from_snapshot(self, firm: FirmConfig, events: list[Event], cut: int) -> None:
        """A structuring stream restored from a snapshot at any event alerts as if never stopped."""
        first = StreamEngine(firm, rules=("structuring",))
        alerts = [a for e in events[:cut] for a in first.observe(e)]
        second = StreamEngine(firm, rules=("structuring",))
        second.restore(first.snapshot())
        alerts += [a for e in events[cut:] for a in second.observe(e)]
        assert as_records(alerts) == as_records(stream_alerts(firm, events, rules=("structuring",)))
