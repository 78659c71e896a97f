"""The buffered event sink on a real SQLite event store: queued by ``emit``, stored by its flusher
thread, by ``flush`` or on ``close``; one already-stored id does not lose the other events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from orderguard.domain import Event, EventKind, Side
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from orderguard.storage.migrate import upgrade
from orderguard.wiring.sinks import BufferedEventSink

T0 = 1_795_000_000_000_000_000


@pytest.fixture
def store(sqlite_url: str) -> Iterator[EventStore]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    yield EventStore(engine)
    engine.dispose()


def order(n: int) -> Event:
    return Event(
        f"client_order:O-{n}",
        T0 + n,
        EventKind.CLIENT_ORDER,
        "alice",
        account="C-PENSION-1",
        symbol="IBM",
        side=Side.BUY,
        qty=10.0,
        price=200.0,
        venue="XNYS",
        order_id=f"O-{n}",
    )


def stored_ids(store: EventStore) -> list[str]:
    return [str(i) for i in store.to_arrow().column("event_id").to_pylist()]


def flusher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "event-flusher"]


class TestBufferedEventSink:
    def test_unstarted_a_full_batch_is_stored_by_the_emitter(self, store: EventStore) -> None:
        """Without a flusher thread, the emit that fills a batch stores it; fewer wait for ``flush``."""
        sink = BufferedEventSink(store, batch=3)
        sink.emit_many([order(1), order(2)])
        assert store.count() == 0
        sink.emit(order(3))
        assert stored_ids(store) == ["client_order:O-1", "client_order:O-2", "client_order:O-3"]
        sink.emit(order(4))
        assert sink.flush() == 1
        assert store.count() == 4

    def test_started_the_flusher_stores_without_a_flush(self, store: EventStore) -> None:
        """Once started, emitted events reach the store from the flusher thread within its interval."""
        sink = BufferedEventSink(store, interval=0.05)
        sink.start()
        try:
            sink.emit(order(1))
            deadline = time.monotonic() + 10
            while store.count() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert stored_ids(store) == ["client_order:O-1"]
        finally:
            sink.close()

    def test_close_stores_what_is_pending_and_stops_the_thread(self, store: EventStore) -> None:
        """``close`` joins the flusher thread and stores events emitted just before it."""
        sink = BufferedEventSink(store, interval=60)
        before = len(flusher_threads())
        sink.start()
        sink.start()  # idempotent: still one thread
        assert len(flusher_threads()) == before + 1
        sink.emit_many([order(1), order(2)])
        sink.close()
        assert len(flusher_threads()) == before
        assert store.count() == 2

    def test_an_id_already_stored_does_not_lose_the_others(self, store: EventStore) -> None:
        """A batch with one id that is already stored keeps every other event (the repeat is dropped)."""
        sink = BufferedEventSink(store)
        sink.emit(order(2))
        sink.flush()
        sink.emit_many([order(1), order(2), order(3)])
        assert sink.flush() == 3
        assert sorted(stored_ids(store)) == ["client_order:O-1", "client_order:O-2", "client_order:O-3"]
