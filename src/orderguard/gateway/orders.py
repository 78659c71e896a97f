"""An order as it reaches the controls, and the facts about it that policies see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orderguard.domain import Side


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A new or modified order entered by ``actor`` (epoch-ns ``ts``)."""

    order_id: str
    actor: str
    account: str
    symbol: str
    side: Side
    qty: float
    price: float
    venue: str
    ts: int
    approval_request_id: str | None = None
    ip: str | None = None
    session_id: str | None = None

    @property
    def notional(self) -> float:
        return self.qty * self.price

    def approval_content(self) -> Mapping[str, object]:
        """What an approver approves: every economic field of the order and who entered it."""
        return {
            "actor": self.actor,
            "account": self.account,
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "price": self.price,
            "venue": self.venue,
        }

    def record(self) -> dict[str, object]:
        """JSON-ready snapshot for the audit log."""
        return {
            "order_id": self.order_id,
            **self.approval_content(),
            "approval_request_id": self.approval_request_id,
        }
