"""The planting toolkit of orderguard.sim.scenarios: a day, events added at firm-local times, labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from orderguard.config import FirmConfig
from orderguard.domain.events import Event, EventKind, Side
from orderguard.ingest import batch_from_events
from orderguard.sim.day import SimDay
from orderguard.sim.labels import Label

RELATED = {"ZZREL": ("ZZREL-OPT",)}
SECOND = 1_000_000_000


@dataclass(frozen=True)
class PlantedDay:
    table: pa.Table  # base and planted events, sorted by (ts, seq)
    firm: FirmConfig  # the day's firm plus the planted related instruments
    labels: tuple[Label, ...]


def planted_firm(firm: FirmConfig) -> FirmConfig:
    """The firm with the planted instrument family (ZZREL options relate to ZZREL)."""
    controls = firm.controls.model_copy(
        update={"related_instruments": {**firm.controls.related_instruments, **RELATED}}
    )
    return firm.model_copy(update={"controls": controls})


class Planter:
    def __init__(self, day: SimDay) -> None:
        self.day = day
        self.handlers: dict[str, str] = {}  # order id -> the employee who entered or handled it
        self.zone = day.firm.business_hours.zone
        self.events: list[Event] = []
        self.labels: list[Label] = []
        self.first_seq = int(day.table.column("seq").to_numpy().max()) + 1 if day.table.num_rows else 0

    def at(self, hour: int, minute: int, second: float = 0.0) -> int:
        """Firm-local wall clock on the day, as epoch ns."""
        whole = int(second)
        moment = dt.datetime.combine(self.day.date, dt.time(hour, minute, whole), tzinfo=self.zone)
        return int(moment.timestamp()) * SECOND + round((second - whole) * SECOND)

    def add(self, kind: EventKind, ts: int, actor: str, **fields: object) -> str:
        n = len(self.events)
        side = fields.pop("side", None)
        event = Event(
            event_id=f"PLANT-{self.day.date:%Y%m%d}-{n:05d}",
            ts=ts,
            kind=kind,
            actor=actor,
            seq=self.first_seq + n,
            side=Side(side) if isinstance(side, str) else None,
            **fields,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event.event_id

    def order(
        self,
        ts: int,
        actor: str,
        oid: str,
        symbol: str,
        *,
        side: str,
        qty: float,
        account: str,
        price: float | None = 50.0,
    ) -> str:
        self.handlers[oid] = actor
        return self.add(
            EventKind.CLIENT_ORDER,
            ts,
            actor,
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            price=price,
            venue="XNYS",
            order_id=oid,
        )

    def fill(
        self,
        ts: int,
        oid: str,
        symbol: str,
        *,
        side: str,
        qty: float,
        account: str,
        venue: str = "XNYS",
        actor: str | None = None,
    ) -> str:
        """An execution of order ``oid``; its actor is the employee who handled the order (v1)."""
        handler = actor or self.handlers.get(oid)
        if handler is None:
            raise ValueError(f"fill of {oid!r}: no planted order names its handler; pass actor=")
        return self.add(
            EventKind.EXECUTION,
            ts,
            handler,
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            price=50.0,
            venue=venue,
            order_id=oid,
        )

    def personal(
        self, ts: int, actor: str, account: str, symbol: str, *, side: str, qty: float, price: float = 50.0
    ) -> str:
        return self.add(
            EventKind.PERSONAL_TRADE,
            ts,
            actor,
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            price=price,
        )

    def view(self, ts: int, actor: str, account: str, records: int, oid: str | None = None) -> str:
        return self.add(EventKind.ORDER_VIEW, ts, actor, account=account, records=records, order_id=oid)

    def label(
        self,
        scenario: str,
        rule: str,
        trigger: str,
        *ids: str,
        expect: str = "alert",
        severity: str | None = None,
    ) -> None:
        self.labels.append(
            Label(scenario, rule, expect, trigger, (*ids, trigger) if trigger not in ids else ids, severity)
        )

    def result(self, firm: FirmConfig) -> PlantedDay:
        planted = batch_from_events(self.events).table.select(self.day.table.column_names)
        table = pa.concat_tables([self.day.table, planted.cast(self.day.table.schema)])
        table = table.sort_by([("ts", "ascending"), ("seq", "ascending")])
        return PlantedDay(table, firm, tuple(self.labels))
