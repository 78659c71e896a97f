"""Tables of the cases area (created by migration 0005_cases): alerts, cases, comments, evidence,
responses and the notification outbox.

Alert and case rows are updated as their status changes (every change is also in the audit log);
comments and evidence are append-only, numbered per case. A response row (block, suspension,
legal hold, forced re-approval) is never deleted: lifting it stamps ``lifted_ns``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

case_alerts = Table(
    "case_alerts",
    metadata,
    Column("alert_id", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("symbol", Text, nullable=True),
    Column("ts_ns", BigInteger, nullable=False),
    Column("event_ids", Text, nullable=False),  # JSON list
    Column("explanation", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("queues", Text, nullable=False),  # comma-separated queue names
    Column("status", Text, nullable=False),
    Column("disposition", Text, nullable=True),
    Column("case_id", Text, nullable=False),
    Column("received_ns", BigInteger, nullable=False),
    Column("triaged_ns", BigInteger, nullable=True),
    Column("closed_ns", BigInteger, nullable=True),
    PrimaryKeyConstraint("alert_id", name="pk_case_alerts"),
    Index("ix_case_alerts_case_rule", "case_id", "rule"),  # 0007_cases_paging (was case_id alone)
    Index("ix_case_alerts_status", "status"),
    Index("ix_case_alerts_ts", "ts_ns", "alert_id"),  # 0007_cases_paging: the queue, newest first
    Index("ix_case_alerts_actor_ts", "actor", "ts_ns"),  # 0007_cases_paging
    Index("ix_case_alerts_rule_ts", "rule", "ts_ns"),  # 0007_cases_paging
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("assignee", Text, nullable=True),
    Column("opened_ns", BigInteger, nullable=False),
    Column("closed_ns", BigInteger, nullable=True),
    Column("disposition", Text, nullable=True),
    PrimaryKeyConstraint("case_id", name="pk_cases"),
    Index("ix_cases_subject", "subject", "status"),
    Index("ix_cases_opened", "opened_ns", "case_id"),  # 0007_cases_paging: the case list, oldest first
)

case_comments = Table(
    "case_comments",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("author", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("case_id", "seq", name="pk_case_comments"),
)

case_evidence = Table(
    "case_evidence",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("kind", Text, nullable=False),  # "event" or "audit_entry"
    Column("ref", Text, nullable=False),  # event id or audit log index
    Column("added_by", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("content", Text, nullable=False),  # JSON snapshot (the event record, or entry + proof)
    PrimaryKeyConstraint("case_id", "seq", name="pk_case_evidence"),
)

case_responses = Table(
    "case_responses",
    metadata,
    Column("response_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # block / suspend / legal_hold / reapproval
    Column("subject", Text, nullable=False),  # the principal concerned
    Column("pattern", Text, nullable=True),  # JSON of a blocked pattern
    Column("case_id", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("lifted_by", Text, nullable=True),
    Column("lifted_ns", BigInteger, nullable=True),
    Column("approval_id", Text, nullable=True),
    PrimaryKeyConstraint("response_id", name="pk_case_responses"),
    Index("ix_case_responses_subject", "kind", "subject"),
)

case_notifications = Table(
    "case_notifications",
    metadata,
    Column("alert_id", Text, nullable=False),
    Column("notifier", Text, nullable=False),
    Column("status", Text, nullable=False),  # pending / sent / failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("updated_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("alert_id", "notifier", name="pk_case_notifications"),
)

CASES_TABLES = (
    "case_alerts",
    "cases",
    "case_comments",
    "case_evidence",
    "case_responses",
    "case_notifications",
)
