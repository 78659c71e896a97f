"""Reading the subject's events for evidence and timelines.

``EventStore`` answers by actor, account, symbol and order; evidence also needs events by id
(an alert names its key events), which this module adds on the same ``events`` table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from orderguard.domain import Event, EventKind, Side
from orderguard.storage.events_store import EventStore
from orderguard.storage.events_tables import events


def events_by_id(store: EventStore, event_ids: Sequence[str]) -> list[Event]:
    """The stored events among ``event_ids``, in (ts, seq) order; unknown ids are left out."""
    found: list[Event] = []
    ids = list(dict.fromkeys(event_ids))
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            query = select(events).where(events.c.event_id.in_(ids[start : start + 500]))
            found.extend(_event(row._mapping) for row in conn.execute(query))
    return sorted(found, key=lambda e: (e.ts, e.seq))


def _event(row: Any) -> Event:
    side = row["side"]
    return Event(
        event_id=row["event_id"],
        ts=row["ts_ns"],
        kind=EventKind(row["kind"]),
        actor=row["actor"],
        seq=row["seq"],
        account=row["account"],
        symbol=row["symbol"],
        side=None if side is None else Side(side),
        qty=row["qty"],
        price=row["price"],
        venue=row["venue"],
        order_id=row["order_id"],
        records=row["records"],
        ip=row["ip"],
        session_id=row["session_id"],
    )
