"""Cases: indexes for lists paged in SQL (alerts newest first, by subject or rule; cases oldest first).

Revision ID: 0007_cases_paging
Revises: 0005_cases
"""

from __future__ import annotations

from alembic import op

revision = "0007_cases_paging"
down_revision = "0005_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the paging indexes; the per-case index gains the rule (the queue's per-case rule counts
    read the index alone)."""
    op.create_index("ix_case_alerts_ts", "case_alerts", ["ts_ns", "alert_id"])
    op.create_index("ix_case_alerts_actor_ts", "case_alerts", ["actor", "ts_ns"])
    op.create_index("ix_case_alerts_rule_ts", "case_alerts", ["rule", "ts_ns"])
    op.drop_index("ix_case_alerts_case", table_name="case_alerts")
    op.create_index("ix_case_alerts_case_rule", "case_alerts", ["case_id", "rule"])
    op.create_index("ix_cases_opened", "cases", ["opened_ns", "case_id"])


def downgrade() -> None:
    """Back to 0005_cases's indexes."""
    op.drop_index("ix_cases_opened", table_name="cases")
    op.drop_index("ix_case_alerts_case_rule", table_name="case_alerts")
    op.create_index("ix_case_alerts_case", "case_alerts", ["case_id"])
    op.drop_index("ix_case_alerts_rule_ts", table_name="case_alerts")
    op.drop_index("ix_case_alerts_actor_ts", table_name="case_alerts")
    op.drop_index("ix_case_alerts_ts", table_name="case_alerts")
