"""Live surveillance in the server: the stream snapshot and read position kept between runs.

Revision ID: 0007_live_surveillance
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_live_surveillance"
down_revision = "0000_base"
branch_labels = ("live_surveillance",)
depends_on = None


def upgrade() -> None:
    """Create live_surveillance (written out, so model edits cannot change it)."""
    op.create_table(
        "live_surveillance",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("position_ts", sa.BigInteger(), nullable=True),
        sa.Column("position_seq", sa.BigInteger(), nullable=True),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("late_events", sa.BigInteger(), nullable=False),
        sa.Column("alerts_raised", sa.BigInteger(), nullable=False),
        sa.Column("last_alert_ns", sa.BigInteger(), nullable=True),
        sa.Column("saved_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_live_surveillance"),
    )


def downgrade() -> None:
    """Drop the live surveillance table."""
    op.drop_table("live_surveillance")
