"""The order desk's v1 events: what really happened to an order entered through orderguard.

Ids are deterministic and unique per order id: ``client_order:<id>`` (or ``personal_trade:<id>``),
``order_cancel:<id>``; fills keep the venue's ids (``<venue>-<id>-fill-<n>``). Every event carries
the order id, which is how the batch engine's order lifecycle links fills and cancels to the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orderguard.domain import Event, EventKind
from orderguard.gateway.orders import OrderTicket


class EventSink(Protocol):
    """Where the desk's events go (``wiring.sinks.BufferedEventSink``): queued, stored off the order path."""

    def emit(self, event: Event) -> None: ...

    def emit_many(self, events: Sequence[Event]) -> None: ...


def order_event(ticket: OrderTicket, personal: bool) -> Event:
    """An accepted order as a v1 event: a personal trade on a personal account, else a client order."""
    kind = EventKind.PERSONAL_TRADE if personal else EventKind.CLIENT_ORDER
    return Event(
        f"{kind.value}:{ticket.order_id}",
        ticket.ts,
        kind,
        ticket.actor,
        account=ticket.account,
        symbol=ticket.symbol,
        side=ticket.side,
        qty=ticket.qty,
        price=ticket.price,
        venue=ticket.venue,
        order_id=ticket.order_id,
        ip=ticket.ip,
        session_id=ticket.session_id,
    )


def cancel_event(ticket: OrderTicket, actor: str, ts: int, ip: str | None, session_id: str | None) -> Event:
    """A successful cancel of ``ticket`` by ``actor`` as a v1 ``order_cancel`` event."""
    return Event(
        f"{EventKind.ORDER_CANCEL.value}:{ticket.order_id}",
        ts,
        EventKind.ORDER_CANCEL,
        actor,
        account=ticket.account,
        symbol=ticket.symbol,
        side=ticket.side,
        venue=ticket.venue,
        order_id=ticket.order_id,
        ip=ip,
        session_id=session_id,
    )
