"""Tables of the controls area (created by migration 0003_controls): approval requests and votes.

A request row is updated as its status and break-glass state change; votes are append-only
(one row per vote, numbered per request), so a stale or duplicate vote stays on record.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("object_id", Text, nullable=False),
    Column("initiator", Text, nullable=False),
    Column("content", Text, nullable=False),  # canonical JSON of what is approved
    Column("digest", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("quorum", Integer, nullable=False),
    Column("eligible_roles", Text, nullable=False),  # comma-separated role names
    Column("status", Text, nullable=False),
    Column("closed_reason", Text, nullable=False),
    Column("break_glass", Text, nullable=True),  # JSON of the grant and its review, if any
    PrimaryKeyConstraint("id", name="pk_approval_requests"),
    Index("ix_approval_requests_object", "action", "object_id"),
    Index("ix_approval_requests_status", "status"),
)

approval_votes = Table(
    "approval_votes",
    metadata,
    Column("request_id", Text, nullable=False),
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("approver", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("verdict", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    PrimaryKeyConstraint("request_id", "seq", name="pk_approval_votes"),
)

CONTROLS_TABLES = ("approval_requests", "approval_votes")
