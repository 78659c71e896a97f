"""Reference prices for notional-based controls, and the notional those controls use.

orderguard has no market-data feed. A symbol's reference price comes from the last execution
price the order desk has seen for it (fills returned by the connector) and the firm file's
optional ``[reference_prices]`` table: the latest fill, but never below the firm file's price.
A fill is a price the desk's own traders can move (a one-share sell filled at a silly limit);
the firm file is not. Taking the higher can only ask for more approvals, never fewer.

The notional a control compares with its threshold must not rest on a price the trader chose
when that price does not bound the execution: a sell limit far below the market is marketable
and fills at the market, so a SELL counts at max(limit, reference). A BUY counts at its limit:
a high buy limit is already counted high, and a low one cannot fill above it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from orderguard.domain import Event, Side
from orderguard.gateway.orders import OrderTicket

FIRM_FILE = "firm file [reference_prices]"


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    """A symbol's reference price, where it came from and (for a fill) when, in epoch ns."""

    price: float
    source: str
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class ControlNotional:
    """The notional a control uses for an order and the price it rests on."""

    notional: float
    price: float
    reference: ReferencePrice | None
    from_reference: bool

    def note(self, order: OrderTicket) -> str:
        """What a SELL's decision message adds: no reference at all, or the reference raised the
        notional ("" otherwise, and for a BUY)."""
        if order.side is not Side.SELL:
            return ""
        ref = self.reference
        if ref is None:
            return (
                f"no reference price was available for {order.symbol}: notional {self.notional:,.2f} "
                f"uses the order's own limit {order.price:g}"
            )
        if self.from_reference:
            return (
                f"notional {self.notional:,.2f} uses reference price {ref.price:g} ({ref.source}), "
                f"above the sell limit {order.price:g}"
            )
        return ""

    def record(self) -> dict[str, object]:
        """JSON-ready: for the audit entry and the approval request, so approvers see it."""
        ref = self.reference
        return {
            "control_notional": self.notional,
            "control_price": self.price,
            "reference_price": None if ref is None else ref.price,
            "reference_source": None if ref is None else ref.source,
        }


def control_notional(order: OrderTicket, reference: ReferencePrice | None) -> ControlNotional:
    """qty x the price the trader does not choose: max(limit, reference) for a SELL, the limit for a BUY."""
    if order.side is Side.SELL and reference is not None and reference.price > order.price:
        return ControlNotional(order.qty * reference.price, reference.price, reference, True)
    return ControlNotional(order.qty * order.price, order.price, reference, False)


class ReferencePrices:
    """Per-symbol reference prices: the desk's latest fill, floored at the firm file's table."""

    def __init__(self, configured: Mapping[str, float] | None = None) -> None:
        self._configured = {s: ReferencePrice(float(p), FIRM_FILE) for s, p in (configured or {}).items()}
        self._fills: dict[str, ReferencePrice] = {}
        self._lock = threading.Lock()

    def get(self, symbol: str) -> ReferencePrice | None:
        """The higher of the latest fill and the firm file's price; None if neither is known."""
        fill, configured = self._fills.get(symbol), self._configured.get(symbol)
        if fill is None or configured is None:
            return fill or configured
        return fill if fill.price >= configured.price else configured

    def observe(self, symbol: str, price: float, ts: int) -> None:
        """Record an execution at ``price``; a fill older than the one held is ignored."""
        if not (math.isfinite(price) and price > 0):
            return
        with self._lock:
            held = self._fills.get(symbol)
            if held is None or (held.ts or 0) <= ts:
                self._fills[symbol] = ReferencePrice(price, f"last fill seen by the desk at ts {ts}", ts)

    def observe_fills(self, executions: Iterable[Event]) -> None:
        """Record each fill that carries a symbol and a price."""
        for event in executions:
            if event.symbol is not None and event.price is not None:
                self.observe(event.symbol, event.price, event.ts)
