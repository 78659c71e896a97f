"""The venue adapter interface and an exchange simulator that fills orders plausibly.

The connector calls ``submit`` only for orders that passed every check; the
adapter returns the executions as domain events of kind ``execution``.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from types import MappingProxyType
from typing import Protocol

from orderguard.domain import Event, EventKind, Side
from orderguard.execution.intent import OrderIntent

_CENT = Decimal("0.01")
_WHOLE, _MILLIONTH = Decimal(1), Decimal("0.000001")  # the steps a fill quantity is cut at
_NO_EXTRA: MappingProxyType[str, object] = MappingProxyType({})  # read-only: one shared empty mapping


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
    microseconds each. ``received`` holds the orders it was sent, the latest
    ``keep_received`` to ``2 * keep_received`` of them.
    """

    def __init__(
        self,
        seed: int = 0,
        max_improvement_bps: float = 5.0,
        max_fills: int = 3,
        keep_received: int = 10_000,
    ) -> None:
        if keep_received < 1:
            raise ValueError(f"keep_received must be at least 1, got {keep_received}")
        self._rng = random.Random(seed)  # noqa: S311 - simulated fills, not secrets
        self._max_improvement = Decimal(str(max_improvement_bps)) / Decimal(10_000)
        self._max_fills = max_fills
        # The latest orders, oldest first; a long-running server keeps a bounded tail, not every order
        # (each kept intent is memory, and work for every full collection of the garbage collector).
        self.received: list[OrderIntent] = []
        self._keep_received = keep_received

    def submit(self, intent: OrderIntent, accepted_ns: int) -> tuple[Event, ...]:
        received = self.received
        received.append(intent)
        if len(received) >= 2 * self._keep_received:  # trimmed in halves: amortised O(1) per order
            del received[: -self._keep_received]
        randint = self._rng.randint
        quantities = self._split(intent.qty, randint(1, self._max_fills))
        prefix = f"{intent.venue}-{intent.order_id}-fill-"
        band = intent.price * self._max_improvement  # the widest price improvement
        events = []
        ts = accepted_ns
        for number, qty in enumerate(quantities, start=1):
            ts += randint(50_000, 900_000)
            events.append(
                Event(
                    prefix + str(number),
                    ts,
                    EventKind.EXECUTION,
                    intent.originator,
                    account=intent.account,
                    symbol=intent.symbol,
                    side=intent.side,
                    qty=float(qty),
                    price=float(self._price(intent, band)),
                    venue=intent.venue,
                    order_id=intent.order_id,
                    extra=_NO_EXTRA,
                )
            )
        return tuple(events)

    def _split(self, qty: Decimal, parts: int) -> list[Decimal]:
        if parts == 1:
            return [qty]
        whole = qty == qty.to_integral_value()
        if whole and qty < parts:
            return [qty]
        cuts = sorted(self._rng.uniform(0.1, 0.9) for _ in range(parts - 1))
        quantities: list[Decimal] = []
        done = Decimal(0)
        step = _WHOLE if whole else _MILLIONTH
        for cut in cuts:
            point = (qty * Decimal(str(cut))).quantize(step, ROUND_DOWN)
            if point > done:
                quantities.append(point - done)
                done = point
        quantities.append(qty - done)
        return quantities

    def _price(self, intent: OrderIntent, band: Decimal) -> Decimal:
        improvement = band * Decimal(str(self._rng.random()))
        if intent.side is Side.BUY:
            price = (intent.price - improvement).quantize(_CENT, ROUND_UP)
            return min(price, intent.price)
        price = (intent.price + improvement).quantize(_CENT, ROUND_DOWN)
        return max(price, intent.price)
