"""The notional a control compares with its threshold, and the rule that says when a reference is trusted.

A SELL counts at max(limit, reference price): a sell limit far below the market is marketable and
fills at the market. A BUY counts at its limit. The reference prices themselves are kept by
``reference_prices.ReferencePrices``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orderguard.domain import Side
from orderguard.gateway.orders import OrderTicket

if TYPE_CHECKING:
    from orderguard.gateway.reference_prices import ReferencePrice

_DAY_NS = 86_400 * 1_000_000_000
# A price's ts may lead the clock by at most this (clock skew between a feed and us); further ahead is
# a wrong date (a typo'd year), refused at input and never trusted if stored.
MAX_AHEAD_NS = 300 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    """When a reference is trusted, and what a sell with no trusted price needs."""

    max_age_ns: int = _DAY_NS
    unpriced_sell_max_qty: float = 100_000.0

    def fresh(self, reference: ReferencePrice, now_ns: int) -> bool:
        """At most ``max_age_ns`` old at ``now_ns``, and not dated more than ``MAX_AHEAD_NS`` ahead of it."""
        return reference.ts is None or -MAX_AHEAD_NS <= now_ns - reference.ts <= self.max_age_ns


@dataclass(frozen=True, slots=True)
class ControlNotional:
    """The notional a control uses for an order, the price it rests on, and whether that price is
    trusted (``priced``: a firm-file floor or a fresh reference); ``unpriced_large`` marks a sell
    that needs approval because it is too big to go on its own limit's word."""

    notional: float
    price: float
    reference: ReferencePrice | None
    from_reference: bool
    priced: bool = True
    unpriced_large: bool = False
    max_qty: float = 0.0

    def note(self, order: OrderTicket) -> str:
        """What a SELL's decision message adds ("" when the notional needs no explaining, and for a BUY)."""
        if order.side is not Side.SELL:
            return ""
        ref = self.reference
        parts: list[str] = []
        if ref is None:
            parts.append(
                f"no reference price was available for {order.symbol}: notional {self.notional:,.2f} "
                f"uses the order's own limit {order.price:g}"
            )
        elif self.from_reference:
            parts.append(
                f"notional {self.notional:,.2f} uses reference price {ref.price:g} ({ref.source}), "
                f"above the sell limit {order.price:g}"
            )
        if ref is not None and not self.priced:
            parts.append(f"the reference price for {order.symbol} is stale ({ref.source})")
        if self.unpriced_large:
            parts.append(
                f"a sell of more than {self.max_qty:,.0f} with no fresh reference price needs "
                "large-order approval"
            )
        return "; ".join(parts)

    def record(self) -> dict[str, object]:
        """JSON-ready: for the audit entry and the approval request, so approvers see it."""
        ref = self.reference
        return {
            "control_notional": self.notional,
            "control_price": self.price,
            "reference_price": None if ref is None else ref.price,
            "reference_source": None if ref is None else ref.source,
            "reference_fresh": self.priced,
        }


def control_notional(
    order: OrderTicket,
    reference: ReferencePrice | None,
    *,
    priced: bool | None = None,
    rule: ReferenceRule | None = None,
) -> ControlNotional:
    """qty x the price the trader does not choose: max(limit, reference) for a SELL, the limit for a BUY.

    ``priced`` (default: a reference is known) says whether a trusted price exists; with ``rule``
    an untrusted SELL above its quantity cap is marked ``unpriced_large``.
    """
    priced = reference is not None if priced is None else priced
    unpriced_large = (
        rule is not None and order.side is Side.SELL and not priced and order.qty > rule.unpriced_sell_max_qty
    )
    max_qty = rule.unpriced_sell_max_qty if rule is not None else 0.0
    if order.side is Side.SELL and reference is not None and reference.price > order.price:
        notional = order.qty * reference.price
        return ControlNotional(notional, reference.price, reference, True, priced, unpriced_large, max_qty)
    return ControlNotional(
        order.qty * order.price, order.price, reference, False, priced, unpriced_large, max_qty
    )
