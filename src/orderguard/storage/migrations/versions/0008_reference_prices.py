"""Reference prices: each symbol's latest price from fills, the market-data feed and end-of-day files.

Revision ID: 0008_reference_prices
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_reference_prices"
down_revision = "0000_base"
branch_labels = ("reference_prices",)
depends_on = None


def upgrade() -> None:
    """Create reference_prices (written out, so model edits cannot change it)."""
    op.create_table(
        "reference_prices",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "kind", name="pk_reference_prices"),
    )


def downgrade() -> None:
    """Drop the reference prices table."""
    op.drop_table("reference_prices")
