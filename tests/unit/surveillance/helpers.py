"""Building event tables and streams for the surveillance tests."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind, Side, parse_ts
from orderguard.ingest import batch_from_events
from orderguard.surveillance.batch import BatchEngine
from orderguard.surveillance.stream import StreamEngine

SECOND = 1_000_000_000
# 2026-11-20 (a Friday) 15:00 UTC = 10:00 in New York: inside business hours.
T0 = parse_ts("2026-11-20T15:00:00Z")


def table_of(events: Iterable[Event]) -> pa.Table:
    """Events as a table in EVENT_SCHEMA layout (what orderguard.ingest produces)."""
    return batch_from_events(list(events)).table


def stream_alerts(firm: FirmConfig, events: list[Event], **kwargs: object) -> list[Alert]:
    """Every alert of the stream engine over events in (ts, seq) order."""
    engine = StreamEngine(firm, **kwargs)  # type: ignore[arg-type]
    alerts: list[Alert] = []
    for event in sorted(events, key=lambda e: (e.ts, e.seq)):
        alerts += engine.observe(event)
    return alerts


def batch_alerts(firm: FirmConfig, events: list[Event], **kwargs: object) -> list[Alert]:
    """Every alert of the batch engine over the same events."""
    return BatchEngine(firm, **kwargs).scan(table_of(events))  # type: ignore[arg-type]


class Events:
    """A small builder: numbered event ids and seqs, times in seconds after T0."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: EventKind, at: float, actor: str, **fields: object) -> Event:
        n = len(self.events) + 1
        side = fields.pop("side", None)
        event = Event(
            event_id=f"e{n}",
            ts=T0 + round(at * SECOND),
            kind=kind,
            actor=actor,
            seq=n,
            side=Side(side) if isinstance(side, str) else None,
            **fields,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event

    def order(
        self, at: float, actor: str, order_id: str, symbol: str, *, side: str, qty: float, **kw: object
    ) -> Event:
        return self.add(
            EventKind.CLIENT_ORDER,
            at,
            actor,
            account="C-PENSION-1",
            symbol=symbol,
            side=side,
            qty=qty,
            order_id=order_id,
            **kw,
        )

    def personal(
        self, at: float, actor: str, symbol: str, side: str, qty: float, *, price: float = 10.0
    ) -> Event:
        return self.add(
            EventKind.PERSONAL_TRADE,
            at,
            actor,
            account=f"PA-{actor}",
            symbol=symbol,
            side=side,
            qty=qty,
            price=price,
        )

    def execution(self, at: float, order_id: str, symbol: str, side: str, qty: float, **kw: object) -> Event:
        fields: dict[str, object] = {"account": "C-PENSION-1", "price": 10.0, "venue": "XNYS"} | kw
        return self.add(
            EventKind.EXECUTION, at, "exec-gw", symbol=symbol, side=side, qty=qty, order_id=order_id, **fields
        )

    def view(
        self, at: float, actor: str, account: str = "C-PENSION-1", records: int = 1, **kw: object
    ) -> Event:
        return self.add(EventKind.ORDER_VIEW, at, actor, account=account, records=records, **kw)
