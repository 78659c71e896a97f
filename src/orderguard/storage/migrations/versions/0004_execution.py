"""Execution: the connector's persisted replay cache.

Revision ID: 0004_execution
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_execution"
down_revision = "0000_base"
branch_labels = ("execution",)
depends_on = None


def upgrade() -> None:
    """Create ``execution_seen_orders`` (written out here so later model edits cannot change history)."""
    op.create_table(
        "execution_seen_orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("accepted_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_execution_seen_orders"),
        sa.UniqueConstraint("nonce", name="uq_execution_seen_orders_nonce"),
    )
    op.create_index("ix_execution_seen_orders_expires_ns", "execution_seen_orders", ["expires_ns"])


def downgrade() -> None:
    """Drop ``execution_seen_orders``."""
    op.drop_table("execution_seen_orders")
