"""What the connector re-checks on its own, taken from the firm file, not from the controls stage."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import SQLAlchemyError

from orderguard.config import FirmConfig
from orderguard.domain import Principal, Side
from orderguard.gateway.control_notional import ReferenceRule
from orderguard.gateway.reference_prices import NS_PER_SECOND, ReferencePrices, ReferenceStore

if TYPE_CHECKING:
    from orderguard.execution.intent import OrderIntent

__all__ = ["NS_PER_SECOND", "ConnectorPolicy"]

_NO_REFERENCES: Final = ReferencePrices()


@dataclass(frozen=True, slots=True)
class ConnectorPolicy:
    """Allowlist, large-order rule, who is who, and the time limits of an envelope.

    ``max_lifetime_ns`` bounds ``expires_ns - created_ns``: it bounds how long
    the replay cache must remember an order, and how far a holder of a stolen,
    rotated-out key could backdate an order.

    ``references`` is the connector's OWN view of reference prices (the firm file's floors and,
    with a database, the stored prices it reads itself): a SELL's quorum is decided on
    max(limit, reference), as the controls decide it, never on a number the API process sends.
    If the database cannot be read, a SELL is judged on the floor and the prices held, untrusted
    (the stricter side), and the error is written to stderr: the connector does not stop.
    """

    approved_venues: frozenset[str]
    large_order_notional: Decimal
    large_order_quorum: int
    principals: Mapping[str, Principal] = field(default_factory=lambda: MappingProxyType({}))
    max_lifetime_ns: int = 300 * NS_PER_SECOND
    clock_skew_ns: int = 5 * NS_PER_SECOND
    references: ReferencePrices = _NO_REFERENCES

    @classmethod
    def from_firm(
        cls,
        firm: FirmConfig,
        max_lifetime_ns: int = 300 * NS_PER_SECOND,
        clock_skew_ns: int = 5 * NS_PER_SECOND,
        reference_store: ReferenceStore | None = None,
    ) -> ConnectorPolicy:
        principals = {p.id: p.to_domain() for p in firm.principals}
        controls = firm.controls
        rule = ReferenceRule(
            int(controls.reference_max_age_seconds * NS_PER_SECOND), controls.unpriced_sell_max_qty
        )
        return cls(
            approved_venues=firm.approved_venues(),
            large_order_notional=Decimal(str(controls.large_order_notional)),
            large_order_quorum=controls.large_order_quorum,
            principals=MappingProxyType(principals),
            max_lifetime_ns=max_lifetime_ns,
            clock_skew_ns=clock_skew_ns,
            references=ReferencePrices(firm.reference_prices, store=reference_store, rule=rule),
        )

    def is_large(self, notional: Decimal) -> bool:
        """Large orders (notional strictly above the threshold) need a quorum of approvals."""
        return notional > self.large_order_notional

    def control_notional(self, intent: OrderIntent, now_ns: int) -> tuple[Decimal, bool]:
        """(notional, unpriced_large): a SELL at max(limit, reference); ``unpriced_large`` when the
        sell has no trusted price and is above the firm's quantity cap."""
        if intent.side is not Side.SELL:
            return intent.notional, False
        try:
            reference, trusted = self.references.reference_for(intent.symbol, now_ns)
        except SQLAlchemyError as exc:  # the child lives on; the stricter side: no price vouches
            print(
                f"orderguard connector: reference prices unreadable ({exc!s:.200}); "
                f"{intent.symbol} judged on its floor and held prices, untrusted",
                file=sys.stderr,
            )
            reference, trusted = self.references.held_reference(intent.symbol), False
        price = intent.price
        if reference is not None:
            price = max(price, Decimal(repr(reference.price)))
        rule = self.references.rule
        unpriced_large = not trusted and intent.qty > Decimal(repr(rule.unpriced_sell_max_qty))
        return intent.qty * price, unpriced_large

    def needs_quorum(self, intent: OrderIntent, now_ns: int) -> bool:
        """True if ``intent`` needs the large-order quorum, on the connector's own reference prices."""
        notional, unpriced_large = self.control_notional(intent, now_ns)
        return unpriced_large or self.is_large(notional)
