"""Controls state a restart must keep: role and venue journals, pre-clearance requests, the blackout
book (client orders and who viewed them) and the holding-period positions.

Revision ID: 0003b_controls_state
Revises: 0003_controls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003b_controls_state"
down_revision = "0003_controls"
branch_labels = None
depends_on = None


def _journal(name: str, *columns: sa.Column[object]) -> None:
    op.create_table(
        name,
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        *columns,
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=f"pk_{name}"),
    )


def upgrade() -> None:
    """Create the journals, the pre-clearance tables and the blackout book."""
    _journal(
        "role_changes",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
    )
    _journal(
        "venue_changes",
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "preclearance_requests",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("requested_ns", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=True),
        sa.Column("spent_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_preclearance_requests"),
    )
    op.create_index(
        "ix_preclearance_requests_principal", "preclearance_requests", ["principal", "requested_ns"]
    )
    op.create_table(
        "blackout_orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("desk", sa.Text(), nullable=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("last_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_blackout_orders"),
    )
    op.create_table(
        "blackout_views",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "order_id", name="pk_blackout_views"),
    )
    op.create_table(
        "personal_positions",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "symbol", name="pk_personal_positions"),
    )


def downgrade() -> None:
    """Drop the controls state tables."""
    for name in ("personal_positions", "blackout_views", "blackout_orders"):
        op.drop_table(name)
    op.drop_index("ix_preclearance_requests_principal", table_name="preclearance_requests")
    for name in ("preclearance_requests", "venue_changes", "role_changes"):
        op.drop_table(name)
