"""Helpers for the live surveillance tests: contexts with the stage on a real database, v1 records,
and a clock the test moves forward (restarts continue the time of the previous run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from orderguard.app import AppContext, build_app_context
from orderguard.config import FirmConfig
from orderguard.domain import format_ts
from orderguard.ingest import batch_from_records
from orderguard.storage.events_store import EventStore

SECOND = 1_000_000_000


def afternoon_ns(firm: FirmConfig) -> int:
    """15:30 in the firm's zone on Friday 20 Nov 2026 (business hours), in epoch nanoseconds."""
    anchor = dt.datetime.combine(dt.date(2026, 11, 20), dt.time(15, 30), tzinfo=firm.business_hours.zone)
    return int(anchor.timestamp()) * SECOND


class StepClock:
    """A clock that reads ``now`` and moves only when the test says so."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += round(seconds * SECOND)
        return self.now


def live_context(
    firm: FirmConfig, url: str, folder: Path, clock: StepClock, lateness: float = 2.0
) -> AppContext:
    """A context with live surveillance on ``url`` (no execution path), its stage not started."""
    ctx = build_app_context(
        firm, url, audit_key=folder / "audit.key", execute=False, clock=clock, surveillance="live"
    )
    assert ctx.live is not None
    ctx.live.lateness_ns = round(lateness * SECOND)
    return ctx


def record(event_id: str, ts: int, kind: str, actor: str, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "ts": format_ts(ts), "kind": kind, "actor": actor, **fields}


def personal_buy(event_id: str, ts: int, qty: float = 10, symbol: str = "NVDA") -> dict[str, object]:
    """tom buys ``qty`` of ``symbol`` on his personal account."""
    return record(
        event_id,
        ts,
        "personal_trade",
        "tom",
        account="PA-tom",
        symbol=symbol,
        side="buy",
        qty=qty,
        price=100.0,
    )


def client_buy(event_id: str, ts: int, qty: float = 2_000, symbol: str = "NVDA") -> dict[str, object]:
    """tom enters a client buy order of ``qty`` of ``symbol``."""
    return record(
        event_id,
        ts,
        "client_order",
        "tom",
        account="C-FAMILY-1",
        symbol=symbol,
        side="buy",
        qty=qty,
        price=100.0,
        order_id=event_id,
        venue="XNYS",
    )


def store(events: EventStore, *records: dict[str, object]) -> None:
    """Append ``records`` to the event store, as any source would."""
    events.append_batch(batch_from_records(list(records), source="test").table)


def rules(ctx: AppContext) -> list[str]:
    """The rule of every stored alert, sorted."""
    return sorted(s.alert.rule for s in ctx.cases.store.alerts())
