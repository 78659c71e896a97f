"""The ``live_surveillance`` table (migration 0007_live_surveillance): where the server's live
surveillance stage keeps its stream snapshot and read position between runs.

One row per stage name (the server uses ``server``). The snapshot is the stream engine's own
bytes (``StreamEngine.snapshot``); ``position_ts``/``position_seq`` repeat its (ts, seq) position
so that an operator can read it with SQL; ``cursor_seq`` is the highest event ``seq`` the stage
has accounted for (observed, held back or counted late).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

live_surveillance = Table(
    "live_surveillance",
    metadata,
    Column("name", Text, nullable=False),
    Column("snapshot", LargeBinary, nullable=False),
    Column("position_ts", BigInteger, nullable=True),
    Column("position_seq", BigInteger, nullable=True),
    Column("cursor_seq", BigInteger, nullable=False),
    Column("late_events", BigInteger, nullable=False),
    Column("alerts_raised", BigInteger, nullable=False),
    Column("last_alert_ns", BigInteger, nullable=True),
    Column("saved_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("name", name="pk_live_surveillance"),
)
