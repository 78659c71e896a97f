"""The ``events`` table: every ingested v1 event, in intake order.

``seq`` is the store's global sequence number (the total order of events is
``(ts_ns, seq)``); ``ts_ns`` holds epoch nanoseconds as an exact integer
because neither backend's timestamp type keeps nanoseconds. Columns the v1
format does not know are kept as JSON text in ``extra``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Index, Integer, Table, Text, UniqueConstraint

from orderguard.storage.schema import metadata

# On SQLite an INTEGER PRIMARY KEY is the rowid itself (64-bit): no second index to maintain.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=False),
    Column("event_id", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("account", Text),
    Column("symbol", Text),
    Column("side", Text),
    Column("qty", Double),
    Column("price", Double),
    Column("venue", Text),
    Column("order_id", Text),
    Column("records", BigInteger),
    Column("ip", Text),
    Column("session_id", Text),
    Column("extra", Text),
    UniqueConstraint("event_id", name="uq_events_event_id"),
    Index("ix_events_ts_ns", "ts_ns"),
    Index("ix_events_actor_ts_ns", "actor", "ts_ns"),
    Index("ix_events_account_ts_ns", "account", "ts_ns"),
    Index("ix_events_symbol_ts_ns", "symbol", "ts_ns"),
    Index("ix_events_order_id", "order_id"),
)

# The columns in table order; loaders and readers both use this one tuple.
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.columns)
