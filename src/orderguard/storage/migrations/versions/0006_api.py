"""Interfaces: API tokens, web credentials and web sessions.

Revision ID: 0006_api
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_api"
down_revision = "0000_base"
branch_labels = ("api",)
depends_on = None


def upgrade() -> None:
    """Create api_tokens, web_sessions and web_credentials (written out, so model edits cannot change it)."""
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=True),
        sa.Column("revoked_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
    )
    op.create_index("ix_api_tokens_principal", "api_tokens", ["principal"])
    op.create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ns", sa.BigInteger(), nullable=True),
        sa.Column("ip", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_web_sessions"),
    )
    op.create_table(
        "web_credentials",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("principal", name="pk_web_credentials"),
    )


def downgrade() -> None:
    """Drop the interfaces tables."""
    op.drop_table("web_credentials")
    op.drop_table("web_sessions")
    op.drop_index("ix_api_tokens_principal", table_name="api_tokens")
    op.drop_table("api_tokens")
