"""Cases: alerts, cases, comments, evidence, responses and the notification outbox.

Revision ID: 0005_cases
Revises: 0000_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_cases"
down_revision = "0000_base"
branch_labels = ("cases",)
depends_on = None


def upgrade() -> None:
    """Create the cases tables."""
    op.create_table(
        "case_alerts",
        sa.Column("alert_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=True),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("event_ids", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("queues", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("disposition", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("received_ns", sa.BigInteger(), nullable=False),
        sa.Column("triaged_ns", sa.BigInteger(), nullable=True),
        sa.Column("closed_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name="pk_case_alerts"),
    )
    op.create_index("ix_case_alerts_case", "case_alerts", ["case_id"])
    op.create_index("ix_case_alerts_status", "case_alerts", ["status"])
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("assignee", sa.Text(), nullable=True),
        sa.Column("opened_ns", sa.BigInteger(), nullable=False),
        sa.Column("closed_ns", sa.BigInteger(), nullable=True),
        sa.Column("disposition", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    op.create_index("ix_cases_subject", "cases", ["subject", "status"])
    op.create_table(
        "case_comments",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name="pk_case_comments"),
    )
    op.create_table(
        "case_evidence",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name="pk_case_evidence"),
    )
    op.create_table(
        "case_responses",
        sa.Column("response_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("lifted_by", sa.Text(), nullable=True),
        sa.Column("lifted_ns", sa.BigInteger(), nullable=True),
        sa.Column("approval_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("response_id", name="pk_case_responses"),
    )
    op.create_index("ix_case_responses_subject", "case_responses", ["kind", "subject"])
    op.create_table(
        "case_notifications",
        sa.Column("alert_id", sa.Text(), nullable=False),
        sa.Column("notifier", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "notifier", name="pk_case_notifications"),
    )


def downgrade() -> None:
    """Drop the cases tables."""
    op.drop_table("case_notifications")
    op.drop_index("ix_case_responses_subject", table_name="case_responses")
    op.drop_table("case_responses")
    op.drop_table("case_evidence")
    op.drop_table("case_comments")
    op.drop_index("ix_cases_subject", table_name="cases")
    op.drop_table("cases")
    op.drop_index("ix_case_alerts_status", table_name="case_alerts")
    op.drop_index("ix_case_alerts_case", table_name="case_alerts")
    op.drop_table("case_alerts")
