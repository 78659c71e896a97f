"""Events: the table of ingested v1 events and its lookup indexes.

Revision ID: 0001_events
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_events"
down_revision = "0000_base"
branch_labels = ("events",)
depends_on = None


def upgrade() -> None:
    """Create ``events`` (written out here, not imported, so later model edits cannot change history)."""
    op.create_table(
        "events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False
        ),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("account", sa.Text()),
        sa.Column("symbol", sa.Text()),
        sa.Column("side", sa.Text()),
        sa.Column("qty", sa.Double()),
        sa.Column("price", sa.Double()),
        sa.Column("venue", sa.Text()),
        sa.Column("order_id", sa.Text()),
        sa.Column("records", sa.BigInteger()),
        sa.Column("ip", sa.Text()),
        sa.Column("session_id", sa.Text()),
        sa.Column("extra", sa.Text()),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    )
    op.create_index("ix_events_ts_ns", "events", ["ts_ns"])
    op.create_index("ix_events_actor_ts_ns", "events", ["actor", "ts_ns"])
    op.create_index("ix_events_account_ts_ns", "events", ["account", "ts_ns"])
    op.create_index("ix_events_symbol_ts_ns", "events", ["symbol", "ts_ns"])
    op.create_index("ix_events_order_id", "events", ["order_id"])


def downgrade() -> None:
    """Drop ``events`` with its indexes."""
    op.drop_table("events")
