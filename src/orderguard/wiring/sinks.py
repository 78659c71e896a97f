"""Small sinks between stages: notifications kept for the UI, events buffered into the event store,
and the order book of the orders entered through this process."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from orderguard.approvals.breakglass import Notification
from orderguard.domain import Event
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.events_store import EventStore


class NotificationInbox:
    """Notifications (break-glass, ...) kept newest first for the UI; a firm wires mail or chat here."""

    def __init__(self, limit: int = 1000) -> None:
        self.items: deque[Notification] = deque(maxlen=limit)

    def notify(self, notification: Notification) -> None:
        self.items.appendleft(notification)


class BufferedEventSink:
    """Events emitted by controls (order views) go to the event store in batches (``flush``)."""

    def __init__(self, store: EventStore, batch: int = 500) -> None:
        self.store = store
        self.batch = batch
        self._pending: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            full = len(self._pending) >= self.batch
        if full:
            self.flush()

    def flush(self) -> int:
        from orderguard.ingest import batch_from_events

        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            self.store.append_batch(batch_from_events(pending).table)
        return len(pending)


@dataclass
class BookedOrder:
    ticket: OrderTicket
    status: str  # accepted / refused / cancelled / executed
    reason: str
    audit_index: int


class OrderBook:
    """Orders entered through this process, by id (for cancel, view and the UI)."""

    def __init__(self) -> None:
        self._orders: dict[str, BookedOrder] = {}
        self._lock = threading.Lock()

    def put(self, order: BookedOrder) -> bool:
        """Record an order; False if its id is already taken (the caller refuses the duplicate)."""
        with self._lock:
            if order.ticket.order_id in self._orders:
                return False
            self._orders[order.ticket.order_id] = order
            return True

    def get(self, order_id: str) -> BookedOrder | None:
        return self._orders.get(order_id)

    def __len__(self) -> int:
        return len(self._orders)

    def all(self) -> list[BookedOrder]:
        return list(self._orders.values())
