"""Real, minimal sinks for the controls tests: append-only lists that record what the controls wrote."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderguard.approvals.breakglass import Notification
from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, Event, Side, parse_ts
from orderguard.domain.alerts import Alert
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import ControlsStack, build_controls

# Friday 2026-11-20, 10:00 in New York: inside the example firm's business hours.
T0 = parse_ts("2026-11-20T15:00:00Z")
SECOND = 1_000_000_000


class MemoryAuditSink:
    """An append-only in-memory audit log: ``append`` returns the entry's index."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1

    def reasons(self) -> list[str | None]:
        return [e.reason_code for e in self.entries]

    def last(self) -> AuditEntry:
        return self.entries[-1]


@dataclass
class Collected:
    """Notifications, events and alerts the controls emitted, in order."""

    notifications: list[Notification] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def notify(self, notification: Notification) -> None:
        self.notifications.append(notification)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def raise_alert(self, alert: Alert) -> None:
        self.alerts.append(alert)


def make_stack(firm: FirmConfig) -> tuple[ControlsStack, MemoryAuditSink, Collected]:
    """The example firm's controls over an in-memory audit log and approval store."""
    audit = MemoryAuditSink()
    sinks = Collected()
    stack = build_controls(firm, audit, notifications=sinks, events=sinks, alerts=sinks)
    return stack, audit, sinks


def order(
    order_id: str = "O-1",
    *,
    actor: str = "alice",
    account: str = "C-PENSION-1",
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    qty: float = 100,
    price: float = 200.0,
    venue: str = "XNYS",
    ts: int = T0,
    approval_request_id: str | None = None,
) -> OrderTicket:
    """An order ticket with the example firm's defaults (alice, equities client, XNYS, 20k notional)."""
    return OrderTicket(order_id, actor, account, symbol, side, qty, price, venue, ts, approval_request_id)
