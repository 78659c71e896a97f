"""The venue adapter interface and an exchange simulator that fills orders plausibly.

The connector calls ``submit`` only for orders that passed every check; the
adapter returns the executions as domain events of kind ``execution``.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Protocol

from orderguard.domain import Event, EventKind, Side
from orderguard.execution.intent import OrderIntent

_CENT = Decimal("0.01")


class VenueAdapter(Protocol):
    """Sends a verified order to a venue and reports what happened.

    An adapter for a real venue would speak FIX or the venue's binary
    protocol; it must not re-read envelopes or make control decisions.
    """

    def submit(self, intent: OrderIntent, accepted_ns: int) -> tuple[Event, ...]: ...


class ExchangeSimulator:
    """A deterministic (seeded) venue: each order fills in 1-3 partial fills at or better than its limit.

    Fill prices sit within ``max_improvement_bps`` of the limit (never worse
    than the limit); fill times follow the acceptance by a few hundred
    microseconds each.
    """

    def __init__(self, seed: int = 0, max_improvement_bps: float = 5.0, max_fills: int = 3) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - simulated fills, not secrets
        self._max_improvement = Decimal(str(max_improvement_bps)) / Decimal(10_000)
        self._max_fills = max_fills
        self.received: list[OrderIntent] = []

    def submit(self, intent: OrderIntent, accepted_ns: int) -> tuple[Event, ...]:
        self.received.append(intent)
        fills = self._rng.randint(1, self._max_fills)
        quantities = self._split(intent.qty, fills)
        events = []
        ts = accepted_ns
        for number, qty in enumerate(quantities, start=1):
            ts += self._rng.randint(50_000, 900_000)
            events.append(
                Event(
                    event_id=f"{intent.venue}-{intent.order_id}-fill-{number}",
                    ts=ts,
                    kind=EventKind.EXECUTION,
                    actor=intent.originator,
                    account=intent.account,
                    symbol=intent.symbol,
                    side=intent.side,
                    qty=float(qty),
                    price=float(self._price(intent)),
                    venue=intent.venue,
                    order_id=intent.order_id,
                )
            )
        return tuple(events)

    def _split(self, qty: Decimal, parts: int) -> list[Decimal]:
        whole = qty == qty.to_integral_value()
        if parts == 1 or (whole and qty < parts):
            return [qty]
        cuts = sorted(self._rng.uniform(0.1, 0.9) for _ in range(parts - 1))
        quantities: list[Decimal] = []
        done = Decimal(0)
        for cut in cuts:
            step = Decimal(1) if whole else Decimal("0.000001")
            point = (qty * Decimal(str(cut))).quantize(step, ROUND_DOWN)
            if point > done:
                quantities.append(point - done)
                done = point
        quantities.append(qty - done)
        return quantities

    def _price(self, intent: OrderIntent) -> Decimal:
        improvement = intent.price * self._max_improvement * Decimal(str(self._rng.random()))
        if intent.side is Side.BUY:
            price = (intent.price - improvement).quantize(_CENT, ROUND_UP)
            return min(price, intent.price)
        price = (intent.price + improvement).quantize(_CENT, ROUND_DOWN)
        return max(price, intent.price)
