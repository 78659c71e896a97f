"""The event store: append Arrow batches of v1 events, look them up, read them back as Arrow.

An append is all-or-nothing in one transaction and stamps a contiguous run of
sequence numbers: appenders are serialised (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``LOCK TABLE ... SHARE ROW EXCLUSIVE``), so concurrent batches never
interleave. Bulk paths skip per-row SQLAlchemy work: SQLite gets the driver's
``executemany`` over plain tuples, PostgreSQL gets ``COPY ... FROM STDIN`` in
CSV written by Arrow. Time ranges are half-open: ``start_ns <= ts_ns < end_ns``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import Connection, Engine, Row, func, or_, select

from orderguard.domain import Event, EventKind, Side
from orderguard.storage import _event_bulk
from orderguard.storage._event_bulk import COLUMN_TYPES
from orderguard.storage.engine import write_turn
from orderguard.storage.events_arrow import duplicate_ids, prepare_batch, stored_table, with_seq
from orderguard.storage.events_tables import EVENT_COLUMNS, events

FIRST_SEQ: Final = 1  # 0 is Event's "not stamped yet"
_ORDER: Final = (events.c.ts_ns, events.c.seq)
_IDS_PER_QUERY: Final = 500  # keeps an IN list well under every driver's parameter limit
_EMPTY: Final = prepare_batch(
    stored_table({name: pa.array([], type_) for name, type_ in COLUMN_TYPES.items()})
)


class DuplicateEventError(ValueError):
    """A batch repeats an event_id, within itself or against stored events; nothing was written."""

    def __init__(self, event_ids: Sequence[str], where: str) -> None:
        self.event_ids = tuple(event_ids)
        shown = ", ".join(repr(e) for e in self.event_ids)
        super().__init__(
            f"duplicate event_id {shown} ({where}); nothing from this batch was written. "
            "Every event_id must be unique: drop or rename the repeated events and append again."
        )


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What one append stored: ``rows`` events with sequence numbers ``first_seq..last_seq``."""

    rows: int
    first_seq: int
    last_seq: int


class EventStore:
    """Events in the ``events`` table of a migrated database (see ``orderguard.storage.migrate``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    # --- writing ---------------------------------------------------------------------------------
    def append_batch(self, table: pa.Table) -> AppendResult:
        """Store every row of ``table`` (ingest layout) in one transaction, or none of them.

        Any ``seq`` column in ``table`` is replaced: rows get the store's next
        sequence numbers in row order.
        """
        return self.append_batches([table])

    def append_batches(self, tables: Sequence[pa.Table]) -> AppendResult:
        """Store ``tables`` one after another in a single transaction, or none of them.

        The tables may differ in their extra (non-v1) columns.
        """
        prepared = pa.concat_tables([prepare_batch(table) for table in tables]) if tables else _EMPTY
        repeated = duplicate_ids(prepared.column("event_id"))
        if repeated:
            raise DuplicateEventError(repeated, "repeated within the batch")
        if prepared.num_rows == 0:
            first = self.next_seq()
            return AppendResult(0, first, first - 1)
        # In SQLite's one write lock, take turns with this process's other hot writers (the audit
        # sequencer): a collision would put the loser to sleep in the busy handler for up to 100 ms.
        with write_turn(self.engine), self.engine.connect() as conn:
            try:
                first = self._lock_and_next_seq(conn)
                rows = with_seq(prepared, first)
                if self._postgres:
                    _event_bulk.copy_into_postgres(conn, rows)
                else:
                    _event_bulk.insert_into_sqlite(conn, rows)
            except _event_bulk.UNIQUE_VIOLATIONS:
                conn.rollback()
                stored = self._stored_ids(conn, prepared.column("event_id"))
                if not stored:
                    raise
                raise DuplicateEventError(stored, "already stored") from None
            conn.commit()
        return AppendResult(prepared.num_rows, first, first + prepared.num_rows - 1)

    def _lock_and_next_seq(self, conn: Connection) -> int:
        if self._postgres:
            conn.exec_driver_sql("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        else:
            # Take the write lock before reading max(seq); a deferred transaction could not upgrade later.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return self._next_seq(conn)

    def _stored_ids(self, conn: Connection, event_ids: pa.ChunkedArray, limit: int = 5) -> list[str]:
        found: list[str] = []
        ids = event_ids.to_pylist()
        for start in range(0, len(ids), 500):
            query = select(events.c.event_id).where(events.c.event_id.in_(ids[start : start + 500]))
            found.extend(conn.execute(query.limit(limit - len(found))).scalars())
            if len(found) >= limit:
                break
        conn.rollback()
        return found

    # --- reading ---------------------------------------------------------------------------------
    def next_seq(self) -> int:
        """The sequence number the next appended event will get."""
        with self.engine.connect() as conn:
            return self._next_seq(conn)

    @staticmethod
    def _next_seq(conn: Connection) -> int:
        highest = conn.execute(select(func.max(events.c.seq))).scalar()
        return FIRST_SEQ if highest is None else int(highest) + 1

    def count(self) -> int:
        """How many events are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def by_actor(self, actor: str, start_ns: int | None = None, end_ns: int | None = None) -> list[Event]:
        """Events done by ``actor`` in ``[start_ns, end_ns)``, in (ts, seq) order."""
        return self._lookup(events.c.actor == actor, start_ns, end_ns)

    def by_account(self, account: str, start_ns: int | None = None, end_ns: int | None = None) -> list[Event]:
        """Events on ``account`` in ``[start_ns, end_ns)``, in (ts, seq) order."""
        return self._lookup(events.c.account == account, start_ns, end_ns)

    def by_symbol(self, symbol: str, start_ns: int | None = None, end_ns: int | None = None) -> list[Event]:
        """Events in ``symbol`` in ``[start_ns, end_ns)``, in (ts, seq) order."""
        return self._lookup(events.c.symbol == symbol, start_ns, end_ns)

    def by_order(self, order_id: str) -> list[Event]:
        """Every event about ``order_id``, in (ts, seq) order."""
        return self._lookup(events.c.order_id == order_id, None, None)

    def by_ids(self, event_ids: Sequence[str]) -> list[Event]:
        """The stored events among ``event_ids``, in (ts, seq) order; unknown ids are left out."""
        ids = list(dict.fromkeys(event_ids))
        found: list[Event] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                query = select(events).where(events.c.event_id.in_(ids[start : start + _IDS_PER_QUERY]))
                found.extend(_event(row) for row in conn.execute(query))
        return sorted(found, key=lambda e: (e.ts, e.seq))

    def after(
        self, position: tuple[int, int] | None, *, until_ns: int, through_seq: int, limit: int
    ) -> list[Event]:
        """Up to ``limit`` events after ``position`` (ts, seq) in (ts, seq) order (from the first
        event when None), only those with ``ts <= until_ns`` and ``seq <= through_seq``."""
        query = select(events).where(events.c.ts_ns <= until_ns, events.c.seq <= through_seq)
        if position is not None:
            ts, seq = position
            # ts >= first keeps the ts index usable; the OR then drops what is at or before position.
            query = query.where(events.c.ts_ns >= ts, or_(events.c.ts_ns > ts, events.c.seq > seq))
        with self.engine.connect() as conn:
            return [_event(row) for row in conn.execute(query.order_by(*_ORDER).limit(limit))]

    def behind(
        self, ts_ns: int, *, after_seq: int, through_seq: int, sample: int = 3
    ) -> tuple[int, list[str]]:
        """Events appended with ``after_seq < seq <= through_seq`` whose ts is before ``ts_ns``: how
        many, and the ids of the first ``sample`` of them."""
        where = (events.c.seq > after_seq, events.c.seq <= through_seq, events.c.ts_ns < ts_ns)
        with self.engine.connect() as conn:
            count = int(conn.execute(select(func.count()).select_from(events).where(*where)).scalar_one())
            ids = conn.execute(select(events.c.event_id).where(*where).order_by(events.c.seq).limit(sample))
            return count, list(ids.scalars())

    def behind_span(self, ts_ns: int, *, after_seq: int, through_seq: int) -> tuple[int, int] | None:
        """(earliest, latest) ts of the events ``behind`` counts, or None when there are none."""
        where = (events.c.seq > after_seq, events.c.seq <= through_seq, events.c.ts_ns < ts_ns)
        with self.engine.connect() as conn:
            span = select(func.min(events.c.ts_ns), func.max(events.c.ts_ns)).where(*where)
            low, high = conn.execute(span).one()
        return None if low is None else (int(low), int(high))

    def _lookup(self, condition: Any, start_ns: int | None, end_ns: int | None) -> list[Event]:
        query = select(events).where(condition)
        if start_ns is not None:
            query = query.where(events.c.ts_ns >= start_ns)
        if end_ns is not None:
            query = query.where(events.c.ts_ns < end_ns)
        with self.engine.connect() as conn:
            return [_event(row) for row in conn.execute(query.order_by(*_ORDER))]

    def to_arrow(self, start_ns: int | None = None, end_ns: int | None = None) -> pa.Table:
        """Events in ``[start_ns, end_ns)`` as an Arrow table (ingest layout + ``extra``), (ts, seq) order."""
        with self.engine.connect() as conn:
            if self._postgres:
                columns = _event_bulk.copy_out_of_postgres(conn, start_ns, end_ns)
            else:
                columns = _event_bulk.select_from_sqlite(conn, start_ns, end_ns)
        return stored_table(columns)


def _event(row: Row[Any]) -> Event:
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    extra = json.loads(values["extra"]) if values["extra"] else {}
    return Event(
        event_id=values["event_id"],
        ts=values["ts_ns"],
        kind=EventKind(values["kind"]),
        actor=values["actor"],
        seq=values["seq"],
        account=values["account"],
        symbol=values["symbol"],
        side=None if values["side"] is None else Side(values["side"]),
        qty=values["qty"],
        price=values["price"],
        venue=values["venue"],
        order_id=values["order_id"],
        records=values["records"],
        ip=values["ip"],
        session_id=values["session_id"],
        extra=MappingProxyType(extra),
    )
