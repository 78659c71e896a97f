"""What an investigator draws from the event store: the client records a subject looked at and
their own trades in them, and what a front-run cost the client.

Both are computed from stored events only, so the playbooks and the case evidence (which the
HTTP API serves) give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderguard.domain import Event, EventKind, Side
from orderguard.domain.alerts import Alert
from orderguard.storage.events_store import EventStore

ACCESS_KINDS = (EventKind.ORDER_VIEW, EventKind.DATA_EXPORT)
TRADING_KINDS = (EventKind.PERSONAL_TRADE, EventKind.CLIENT_ORDER, EventKind.EXECUTION)


@dataclass(frozen=True, slots=True)
class AccessReview:
    """The accounts and symbols a subject viewed or exported, and their trades in them."""

    viewed_accounts: tuple[str, ...]
    viewed_symbols: tuple[str, ...]
    related_trades: tuple[Event, ...]

    def to_record(self) -> dict[str, object]:
        return {
            "viewed_accounts": list(self.viewed_accounts),
            "viewed_symbols": list(self.viewed_symbols),
            "related_trades": [e.to_record() for e in self.related_trades],
        }


def review_access(events: EventStore, activity: Sequence[Event], start_ns: int, end_ns: int) -> AccessReview:
    """From a subject's ``activity`` in ``[start_ns, end_ns)``: the accounts they viewed or exported,
    the symbols in those views or traded on those accounts in the window, and the subject's own
    trades (personal trades, orders they entered, executions) in those symbols or accounts."""
    views = [e for e in activity if e.kind in ACCESS_KINDS and e.account]
    accounts = tuple(sorted({e.account for e in views if e.account}))
    symbols = {e.symbol for e in views if e.symbol}
    for account in accounts:
        symbols |= {e.symbol for e in events.by_account(account, start_ns, end_ns) if e.symbol}
    related = tuple(
        e for e in activity if e.kind in TRADING_KINDS and (e.symbol in symbols or e.account in accounts)
    )
    return AccessReview(accounts, tuple(sorted(symbols)), related)


@dataclass(frozen=True, slots=True)
class FrontRunningImpact:
    """The client's cost from a front-run: executions compared with the employee's earlier trade."""

    alert_id: str
    personal_trade: Event
    client_order: Event
    executions: tuple[Event, ...]
    client_qty: float
    price_move: float  # per share, against the client (positive: the client paid more / got less)
    client_cost: float  # sum over executions of price_move x executed qty

    def to_record(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "personal_trade": self.personal_trade.to_record(),
            "client_order": self.client_order.to_record(),
            "executions": [e.to_record() for e in self.executions],
            "client_qty": self.client_qty,
            "price_move": self.price_move,
            "client_cost": self.client_cost,
        }


def front_running_impact(events: EventStore, alert: Alert) -> FrontRunningImpact | None:
    """Link the personal trade and the client order a front-running alert rests on and price the
    move against the client: the sum over the order's executions of (execution price - personal
    trade price) x executed qty, sign flipped for a sell. None if the key events are not stored."""
    key = events.by_ids(alert.event_ids)
    personal = next((e for e in key if e.kind is EventKind.PERSONAL_TRADE), None)
    order = next((e for e in key if e.kind is EventKind.CLIENT_ORDER), None)
    if personal is None or order is None or personal.price is None or order.order_id is None:
        return None
    fills = tuple(
        e for e in events.by_order(order.order_id) if e.kind is EventKind.EXECUTION and e.price is not None
    )
    sign = 1.0 if order.side is Side.BUY else -1.0
    cost = sum(sign * (float(e.price or 0.0) - personal.price) * float(e.qty or 0.0) for e in fills)
    qty = sum(float(e.qty or 0.0) for e in fills)
    return FrontRunningImpact(alert.alert_id, personal, order, fills, qty, cost / qty if qty else 0.0, cost)
