"""Alerts, cases, comments and evidence in SQLite or PostgreSQL (tables from migration 0005_cases).

Alert ingestion is idempotent at the database: an insert of an ``alert_id`` already stored does
nothing (``ON CONFLICT DO NOTHING`` on both backends) and reports that it did nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Connection, Engine, Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderguard.cases.listing import AlertFilter, CaseListing, case_of, stored_alert
from orderguard.cases.model import (
    AlertStatus,
    Case,
    CaseStatus,
    Comment,
    EvidenceItem,
    Queue,
    StoredAlert,
)
from orderguard.storage.cases_tables import case_alerts, case_comments, case_evidence, cases


class CaseStore:
    """The cases tables of a migrated database; each method is one transaction unless given ``conn``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self.listing = CaseListing(engine)

    # --- alerts ----------------------------------------------------------------------------------
    def insert_alert(self, conn: Connection, stored: StoredAlert) -> bool:
        """Insert ``stored`` unless its id is already stored; True if this call stored it."""
        a = stored.alert
        row = {
            "alert_id": a.alert_id,
            "rule": a.rule,
            "severity": a.severity,
            "actor": a.actor,
            "symbol": a.symbol,
            "ts_ns": a.ts,
            "event_ids": json.dumps(list(a.event_ids)),
            "explanation": a.explanation,
            "action": a.action,
            "queues": ",".join(q.value for q in stored.queues),
            "status": stored.status.value,
            "disposition": None,
            "case_id": stored.case_id,
            "received_ns": stored.received_ns,
        }
        statement = (
            self._insert(case_alerts)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["alert_id"])
            .returning(case_alerts.c.alert_id)
        )
        return conn.execute(statement).first() is not None

    def stored_ids(self, alert_ids: list[str]) -> set[str]:
        """Which of ``alert_ids`` are already stored."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(alert_ids), 500):
                part = alert_ids[start : start + 500]
                found.update(
                    conn.execute(
                        select(case_alerts.c.alert_id).where(case_alerts.c.alert_id.in_(part))
                    ).scalars()
                )
        return found

    def alert(self, alert_id: str) -> StoredAlert | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(case_alerts).where(case_alerts.c.alert_id == alert_id)).first()
        return None if row is None else stored_alert(row)

    def alerts(
        self,
        *,
        queue: Queue | None = None,
        status: AlertStatus | None = None,
        case_id: str | None = None,
        rule: str | None = None,
    ) -> list[StoredAlert]:
        """Alerts matching every filter given, oldest first (all of them: lists page with ``listing``)."""
        statuses = None if status is None else frozenset({status})
        wanted = AlertFilter(rule=rule, statuses=statuses, queue=queue, case_id=case_id)
        query = select(case_alerts).where(*wanted.conditions(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(case_alerts.c.ts_ns, case_alerts.c.alert_id)).all()
        return [stored_alert(row) for row in rows]

    def update_alert(self, stored: StoredAlert) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(case_alerts)
                .where(case_alerts.c.alert_id == stored.alert_id)
                .values(
                    status=stored.status.value,
                    disposition=None if stored.disposition is None else stored.disposition.value,
                    triaged_ns=stored.triaged_ns,
                    closed_ns=stored.closed_ns,
                )
            )

    def rule_outcomes(self) -> dict[str, dict[str, int]]:
        """Per rule: how many alerts, and how many closed with each disposition."""
        query = select(case_alerts.c.rule, case_alerts.c.disposition, func.count()).group_by(
            case_alerts.c.rule, case_alerts.c.disposition
        )
        outcomes: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for rule, disposition, count in conn.execute(query):
                per_rule = outcomes.setdefault(rule, {"total": 0})
                per_rule["total"] += int(count)
                if disposition is not None:
                    per_rule[disposition] = per_rule.get(disposition, 0) + int(count)
        return outcomes

    # --- cases -----------------------------------------------------------------------------------
    def open_case_of(self, conn: Connection, subject: str) -> Case | None:
        query = select(cases).where(cases.c.subject == subject, cases.c.status == CaseStatus.OPEN.value)
        row = conn.execute(query.order_by(cases.c.opened_ns)).first()
        return None if row is None else case_of(row)

    def insert_case(self, conn: Connection, case: Case) -> None:
        conn.execute(cases.insert().values(**_case_row(case)))

    def case(self, case_id: str) -> Case | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
        return None if row is None else case_of(row)

    def cases(self, status: CaseStatus | None = None) -> list[Case]:
        query = where_given(select(cases), {cases.c.status: None if status is None else status.value})
        with self.engine.connect() as conn:
            return [case_of(row) for row in conn.execute(query.order_by(cases.c.opened_ns, cases.c.case_id))]

    def update_case(self, case: Case) -> None:
        row = _case_row(case)
        del row["case_id"]
        with self.engine.begin() as conn:
            conn.execute(update(cases).where(cases.c.case_id == case.case_id).values(**row))

    # --- comments and evidence (append-only, numbered per case) ----------------------------------
    def add_comment(self, case_id: str, author: str, ts_ns: int, body: str) -> Comment:
        with self.engine.begin() as conn:
            seq = _next_seq(conn, case_comments, case_id)
            conn.execute(
                case_comments.insert().values(case_id=case_id, seq=seq, author=author, ts_ns=ts_ns, body=body)
            )
        return Comment(case_id, seq, author, ts_ns, body)

    def comments(self, case_id: str) -> list[Comment]:
        query = select(case_comments).where(case_comments.c.case_id == case_id).order_by(case_comments.c.seq)
        with self.engine.connect() as conn:
            return [Comment(r.case_id, r.seq, r.author, r.ts_ns, r.body) for r in conn.execute(query)]

    def add_evidence(
        self, case_id: str, items: list[tuple[str, str, dict[str, object]]], added_by: str, ts_ns: int
    ) -> list[EvidenceItem]:
        """Attach (kind, ref, content) items in one transaction."""
        added: list[EvidenceItem] = []
        with self.engine.begin() as conn:
            seq = _next_seq(conn, case_evidence, case_id)
            for offset, (kind, ref, content) in enumerate(items):
                item = EvidenceItem(case_id, seq + offset, kind, ref, added_by, ts_ns, content)
                conn.execute(
                    case_evidence.insert().values(
                        case_id=case_id,
                        seq=item.seq,
                        kind=kind,
                        ref=ref,
                        added_by=added_by,
                        ts_ns=ts_ns,
                        content=json.dumps(content, sort_keys=True),
                    )
                )
                added.append(item)
        return added

    def evidence(self, case_id: str) -> list[EvidenceItem]:
        query = select(case_evidence).where(case_evidence.c.case_id == case_id).order_by(case_evidence.c.seq)
        with self.engine.connect() as conn:
            return [
                EvidenceItem(r.case_id, r.seq, r.kind, r.ref, r.added_by, r.ts_ns, json.loads(r.content))
                for r in conn.execute(query)
            ]


def where_given(query: Select[Any], equal: Mapping[Column[Any], object]) -> Select[Any]:
    """``query`` narrowed to rows whose column equals each value given (a None value: no filter)."""
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    return query


def _next_seq(conn: Connection, table: Any, case_id: str) -> int:
    if conn.dialect.name == "postgresql":
        # Serialise writers of one case so two appends never pick the same number.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{table.name}:{case_id}",))
    highest = conn.execute(select(func.max(table.c.seq)).where(table.c.case_id == case_id)).scalar()
    return 1 if highest is None else int(highest) + 1


def _case_row(case: Case) -> dict[str, object]:
    return {
        "case_id": case.case_id,
        "subject": case.subject,
        "status": case.status.value,
        "assignee": case.assignee,
        "opened_ns": case.opened_ns,
        "closed_ns": case.closed_ns,
        "disposition": None if case.disposition is None else case.disposition.value,
    }
