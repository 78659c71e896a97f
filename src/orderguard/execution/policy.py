"""What the connector re-checks on its own, taken from the firm file, not from the controls stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from orderguard.config import FirmConfig
from orderguard.domain import Principal

NS_PER_SECOND: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ConnectorPolicy:
    """Allowlist, large-order rule, who is who, and the time limits of an envelope.

    ``max_lifetime_ns`` bounds ``expires_ns - created_ns``: it bounds how long
    the replay cache must remember an order, and how far a holder of a stolen,
    rotated-out key could backdate an order.
    """

    approved_venues: frozenset[str]
    large_order_notional: Decimal
    large_order_quorum: int
    principals: Mapping[str, Principal] = field(default_factory=lambda: MappingProxyType({}))
    max_lifetime_ns: int = 300 * NS_PER_SECOND
    clock_skew_ns: int = 5 * NS_PER_SECOND

    @classmethod
    def from_firm(
        cls,
        firm: FirmConfig,
        max_lifetime_ns: int = 300 * NS_PER_SECOND,
        clock_skew_ns: int = 5 * NS_PER_SECOND,
    ) -> ConnectorPolicy:
        principals = {p.id: p.to_domain() for p in firm.principals}
        return cls(
            approved_venues=firm.approved_venues(),
            large_order_notional=Decimal(str(firm.controls.large_order_notional)),
            large_order_quorum=firm.controls.large_order_quorum,
            principals=MappingProxyType(principals),
            max_lifetime_ns=max_lifetime_ns,
            clock_skew_ns=clock_skew_ns,
        )

    def is_large(self, notional: Decimal) -> bool:
        """Large orders (notional strictly above the threshold) need a quorum of approvals."""
        return notional > self.large_order_notional
