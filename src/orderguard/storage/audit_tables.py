"""Tables of the tamper-evident audit log (created by migration 0002_audit).

Every table is append-only: triggers refuse UPDATE and DELETE, and on
PostgreSQL TRUNCATE too. The one exception is a payload row, which may be
deleted only once ``audit_erasures`` records the approved erasure for it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

# INTEGER on SQLite makes the index the rowid: no second B-tree to maintain per append.
_INDEX = BigInteger().with_variant(Integer(), "sqlite")

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("idx", _INDEX, nullable=False, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    PrimaryKeyConstraint("idx", name="pk_audit_entries"),
)

audit_payloads = Table(
    "audit_payloads",
    metadata,
    Column("idx", _INDEX, nullable=False, autoincrement=False),
    Column("salt", LargeBinary, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    PrimaryKeyConstraint("idx", name="pk_audit_payloads"),
)

audit_erasures = Table(
    "audit_erasures",
    metadata,
    Column("idx", _INDEX, nullable=False, autoincrement=False),
    Column("erasure_idx", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("erased_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("idx", name="pk_audit_erasures"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, nullable=False, autoincrement=False),
    Column("key_name", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("size", "key_name", name="pk_audit_checkpoints"),
)

AUDIT_TABLES = ("audit_entries", "audit_payloads", "audit_erasures", "audit_checkpoints")
