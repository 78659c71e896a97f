"""Tables of the controls area: approval requests and votes (migration 0003_controls), and the
control state a restart must keep (migration 0003b_controls_state).

A request row is updated as its status and break-glass state change; votes are append-only
(one row per vote, numbered per request), so a stale or duplicate vote stays on record. Role and
venue changes are append-only journals replayed over the firm file at start-up; the pre-clearance
tables hold every request with its decision, the blackout book and the holding-period positions.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, PrimaryKeyConstraint, Table, Text

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

role_changes = Table(
    "role_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("principal", Text, nullable=False),
    Column("change", Text, nullable=False),  # grant, revoke, suspend, reinstate
    Column("role", Text, nullable=True),  # null for suspend / reinstate
    Column("actor", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("request_id", Text, nullable=True),  # the approval request that authorised it, if any
)

venue_changes = Table(
    "venue_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("venue", Text, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("actor", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("request_id", Text, nullable=True),
)

preclearance_requests = Table(
    "preclearance_requests",
    metadata,
    Column("id", Text, nullable=False),
    Column("principal", Text, nullable=False),
    Column("account", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("qty", Float, nullable=False),
    Column("requested_ns", BigInteger, nullable=False),
    Column("decision", Text, nullable=False),  # allow / deny
    Column("reason_code", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("expires_ns", BigInteger, nullable=True),  # granted clearances only
    Column("spent_ns", BigInteger, nullable=True),  # set when the cleared trade went ahead
    PrimaryKeyConstraint("id", name="pk_preclearance_requests"),
    Index("ix_preclearance_requests_principal", "principal", "requested_ns"),
)

blackout_orders = Table(
    "blackout_orders",
    metadata,
    Column("order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("desk", Text, nullable=True),
    Column("working", Boolean, nullable=False),
    Column("last_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("order_id", name="pk_blackout_orders"),
)

blackout_views = Table(
    "blackout_views",
    metadata,
    Column("principal", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("principal", "order_id", name="pk_blackout_views"),
)

personal_positions = Table(
    "personal_positions",
    metadata,
    Column("principal", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),  # side of the last personal trade in the symbol
    Column("ts_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("principal", "symbol", name="pk_personal_positions"),
)

CONTROLS_TABLES = (
    "approval_requests",
    "approval_votes",
    "role_changes",
    "venue_changes",
    "preclearance_requests",
    "blackout_orders",
    "blackout_views",
    "personal_positions",
)
