"""The connector's replay cache: order ids and nonces it accepted, so a restart cannot forget them.

``order_id`` and ``nonce`` are each unique: an insert that collides with
either is a replay. ``expires_ns`` lets old rows be pruned (an expired order
is refused on its expiry alone).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from orderguard.storage.schema import metadata

execution_seen_orders = Table(
    "execution_seen_orders",
    metadata,
    Column("order_id", Text, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("digest", LargeBinary, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("accepted_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("order_id", name="pk_execution_seen_orders"),
    UniqueConstraint("nonce", name="uq_execution_seen_orders_nonce"),
    Index("ix_execution_seen_orders_expires_ns", "expires_ns"),
)
