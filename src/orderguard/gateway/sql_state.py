"""Controls state in SQLite or PostgreSQL (tables from migration 0003b_controls_state): the venue
journal and the pre-clearance store. Each write is one short transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, RowMapping, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from orderguard.domain import Side
from orderguard.gateway.preclearance_store import ClientOrderState, PreClearanceRecord, PreClearanceSnapshot
from orderguard.gateway.venue_journal import VenueChange
from orderguard.storage.controls_tables import (
    blackout_orders,
    blackout_views,
    personal_positions,
    preclearance_requests,
    venue_changes,
)


def _insert(engine: Engine, table: Table) -> Any:
    """The dialect's INSERT (both have ON CONFLICT): one statement per write on the order path."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


def _upsert(engine: Engine, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Insert, or replace the row with primary key ``key``, in one statement and transaction."""
    statement = _insert(engine, table).values(**key, **values)
    statement = statement.on_conflict_do_update(index_elements=list(key), set_=dict(values))
    with engine.begin() as conn:
        conn.execute(statement)


class SqlVenueJournal:
    """``VenueJournal`` on a migrated database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, change: VenueChange) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                venue_changes.insert().values(
                    venue=change.venue,
                    approved=change.approved,
                    actor=change.actor,
                    ts_ns=change.ts,
                    request_id=change.request_id,
                )
            )

    def changes(self) -> list[VenueChange]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(venue_changes).order_by(venue_changes.c.seq)).mappings().all()
        return [
            VenueChange(r["venue"], bool(r["approved"]), r["actor"], r["ts_ns"], r["request_id"])
            for r in rows
        ]


class SqlPreClearanceStore:
    """``PreClearanceStore`` on a migrated database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def snapshot(self) -> PreClearanceSnapshot:
        requests_t = preclearance_requests
        with self.engine.connect() as conn:
            orders = conn.execute(select(blackout_orders)).mappings().all()
            views = conn.execute(select(blackout_views.c.principal, blackout_views.c.order_id)).all()
            positions = conn.execute(select(personal_positions)).mappings().all()
            open_rows = (
                conn.execute(
                    select(requests_t)
                    .where(requests_t.c.decision == "allow", requests_t.c.spent_ns.is_(None))
                    .order_by(requests_t.c.requested_ns, requests_t.c.id)
                )
                .mappings()
                .all()
            )
        clearances = [_record(r).clearance() for r in open_rows]
        return PreClearanceSnapshot(
            [
                ClientOrderState(o["order_id"], o["symbol"], o["desk"], bool(o["working"]), o["last_ns"])
                for o in orders
            ],
            [(v[0], v[1]) for v in views],
            {(p["principal"], p["symbol"]): (Side(p["side"]), p["ts_ns"]) for p in positions},
            [c for c in clearances if c is not None],
        )

    def save_request(self, record: PreClearanceRecord) -> None:
        values = {
            "principal": record.principal,
            "account": record.account,
            "symbol": record.symbol,
            "side": record.side.value,
            "qty": record.qty,
            "requested_ns": record.requested_ns,
            "decision": "allow" if record.allowed else "deny",
            "reason_code": record.reason_code,
            "message": record.message,
            "expires_ns": record.expires_ns,
            "spent_ns": record.spent_ns,
        }
        _upsert(self.engine, preclearance_requests, {"id": record.request_id}, values)

    def mark_spent(self, request_id: str, ts: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                preclearance_requests.update()
                .where(preclearance_requests.c.id == request_id)
                .values(spent_ns=ts)
            )

    def save_client_order(self, state: ClientOrderState) -> None:
        values = {
            "symbol": state.symbol,
            "desk": state.desk,
            "working": state.working,
            "last_ns": state.last_ns,
        }
        _upsert(self.engine, blackout_orders, {"order_id": state.order_id}, values)

    def save_view(self, principal: str, order_id: str, ts: int) -> None:
        statement = _insert(self.engine, blackout_views).values(
            principal=principal, order_id=order_id, ts_ns=ts
        )
        with self.engine.begin() as conn:  # the first view counts; a repeat changes nothing
            conn.execute(statement.on_conflict_do_nothing(index_elements=["principal", "order_id"]))

    def save_position(self, principal: str, symbol: str, side: Side, ts: int) -> None:
        key = {"principal": principal, "symbol": symbol}
        _upsert(self.engine, personal_positions, key, {"side": side.value, "ts_ns": ts})

    def history(self, principal: str | None = None) -> list[PreClearanceRecord]:
        query = select(preclearance_requests).order_by(
            preclearance_requests.c.requested_ns, preclearance_requests.c.id
        )
        if principal is not None:
            query = query.where(preclearance_requests.c.principal == principal)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).mappings().all()]


def _record(row: RowMapping) -> PreClearanceRecord:
    return PreClearanceRecord(
        request_id=row["id"],
        principal=row["principal"],
        account=row["account"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        qty=row["qty"],
        requested_ns=row["requested_ns"],
        allowed=row["decision"] == "allow",
        reason_code=row["reason_code"],
        message=row["message"],
        expires_ns=row["expires_ns"],
        spent_ns=row["spent_ns"],
    )
