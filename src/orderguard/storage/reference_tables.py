"""The ``reference_prices`` table (migration 0008_reference_prices): each symbol's latest reference
prices, when each was observed and where it came from.

One row per symbol and kind: ``fill`` (the desk's own executions) and ``market`` (feed, files),
kept apart so a trader's fill never replaces the market's price. A write keeps the row with the
later ``ts`` (an older observation arriving late changes nothing). ``source`` says who set it
(``fill``, ``feed:<principal>``, ``file:<name>``); ``recorded_ns`` is when orderguard stored it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

reference_prices = Table(
    "reference_prices",
    metadata,
    Column("symbol", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("price", Double, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("recorded_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "kind", name="pk_reference_prices"),
)
