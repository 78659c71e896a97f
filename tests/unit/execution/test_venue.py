"""The exchange simulator: plausible fills, at or better than the limit, as execution events."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain import EventKind, Side
from orderguard.execution import ExchangeSimulator, OrderIntent

NOW = 1_763_700_000_000_000_000


def order(side: Side = Side.BUY, qty: Decimal = Decimal(1000), price: Decimal = Decimal(50)) -> OrderIntent:
    times = (NOW, NOW + 10**10)
    return OrderIntent("ORD-1", "alice", "C-1", "AAPL", side, qty, price, "XNYS", bytes(16), *times)


class TestExchangeSimulator:
    @settings(max_examples=100)
    @given(
        side=st.sampled_from(Side),
        qty=st.integers(1, 10**6).map(Decimal),
        price=st.decimals(Decimal("0.01"), Decimal(10_000), places=2),
        seed=st.integers(0, 1000),
    )
    def test_fills_add_up_and_respect_the_limit(
        self, side: Side, qty: Decimal, price: Decimal, seed: int
    ) -> None:
        """Partial fills sum to the order quantity; buys fill at or below the limit, sells at or above."""
        events = ExchangeSimulator(seed=seed).submit(order(side, qty, price), NOW)
        assert sum(Decimal(str(e.qty)) for e in events) == qty
        for event in events:
            assert event.price is not None
            assert event.price <= float(price) if side is Side.BUY else event.price >= float(price)
            assert abs(event.price - float(price)) <= float(price) * 0.0005 + 0.01

    def test_events_are_execution_events_in_time_order(self) -> None:
        """Each fill is a v1 execution event after the acceptance time, in order."""
        events = ExchangeSimulator(seed=3, max_fills=3).submit(order(), NOW)
        assert all(e.kind is EventKind.EXECUTION and e.order_id == "ORD-1" for e in events)
        assert [e.ts for e in events] == sorted(e.ts for e in events)
        assert events[0].ts > NOW
        assert len({e.event_id for e in events}) == len(events)

    def test_the_same_seed_gives_the_same_fills(self) -> None:
        """The simulator is deterministic for a seed."""
        first, second = ExchangeSimulator(seed=5), ExchangeSimulator(seed=5)
        assert first.submit(order(), NOW) == second.submit(order(), NOW)

    def test_received_keeps_a_bounded_tail_of_the_latest_orders(self) -> None:
        """A long-running simulator remembers its latest orders, not every order it was ever sent."""
        simulator = ExchangeSimulator(keep_received=3)
        intents = [replace(order(), order_id=f"ORD-{n}") for n in range(10)]
        for intent in intents:
            simulator.submit(intent, NOW)
        assert 3 <= len(simulator.received) < 6
        assert simulator.received == intents[-len(simulator.received) :]

    @pytest.mark.parametrize("seed", range(5))
    def test_partial_fills_happen(self, seed: int) -> None:
        """Across seeds the simulator produces more than one fill for some orders."""
        simulator = ExchangeSimulator(seed=seed)
        counts = [len(simulator.submit(order(), NOW)) for _ in range(20)]
        assert max(counts) > 1
