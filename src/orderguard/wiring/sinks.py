"""Small sinks between stages: notifications kept for the UI, events buffered into the event store
(flushed off the order path), and the order book of the orders entered through this process."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from orderguard.approvals.breakglass import Notification
from orderguard.domain import Event
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.events_store import EventStore

log = logging.getLogger(__name__)


class NotificationInbox:
    """Notifications (break-glass, ...) kept newest first for the UI; a firm wires mail or chat here."""

    def __init__(self, limit: int = 1000) -> None:
        self.items: deque[Notification] = deque(maxlen=limit)

    def notify(self, notification: Notification) -> None:
        self.items.appendleft(notification)


class BufferedEventSink:
    """Events emitted by the controls (order views) and the order desk (orders, fills, cancels) go
    to the event store in batches.

    ``emit`` only appends to a list, so the order route may call it on the event loop. Once
    ``start``-ed, a background thread stores what is pending every ``interval`` seconds, or at
    once when a batch fills; before that (CLI, tests) a full batch is stored by the emitting
    thread. ``flush`` stores everything emitted so far (before a scan) and ``close`` stops the thread.
    """

    def __init__(self, store: EventStore, batch: int = 500, interval: float = 0.5) -> None:
        self.store = store
        self.batch = batch
        self.interval = interval
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: a flush returns once its events are stored
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Store pending events from a background thread from now on (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stop:
                return
            self._thread = threading.Thread(target=self._run, name="event-flusher", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        self.emit_many((event,))

    def emit_many(self, events: Sequence[Event]) -> None:
        """Queue ``events`` (in this order) for the store; no I/O unless unstarted and a batch is full."""
        with self._lock:
            self._pending.extend(events)
            full = len(self._pending) >= self.batch
            background = self._thread is not None
        if full:
            if background:
                self._wake.set()
            else:
                self.flush()

    def flush(self) -> int:
        """Store every event emitted so far; the number stored."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, []
            if pending:
                self._store(pending)
            return len(pending)

    def close(self) -> None:
        """Stop the background thread (if started) and store what is pending."""
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive a failing store; the next flush retries later events
                log.exception("storing emitted events failed")

    def _store(self, events: list[Event]) -> None:
        from orderguard.ingest import batch_from_events
        from orderguard.storage.events_store import DuplicateEventError

        try:
            self.store.append_batch(batch_from_events(events).table)
        except DuplicateEventError:
            # An id already stored (an order id reused after a restart): keep every other event.
            for event in events:
                try:
                    self.store.append_batch(batch_from_events([event]).table)
                except DuplicateEventError as exc:
                    log.warning("event not stored: %s", exc)


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
