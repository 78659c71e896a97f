"""Alert and case lists read a page at a time in SQL: filters are WHERE clauses, pages are keyset
(the sort key of the last row shown) or LIMIT/OFFSET, so a year of alerts is never read whole.

Alerts are listed newest first (``ts_ns`` descending, then ``alert_id`` ascending), cases oldest
first (``opened_ns``, then ``case_id``); the indexes of migration 0007_cases_paging serve both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, Row, false, func, literal, or_, select

from orderguard.cases.model import AlertStatus, Case, CaseStatus, Disposition, Queue, StoredAlert
from orderguard.domain.alerts import Alert
from orderguard.storage.cases_tables import case_alerts, cases

OPEN_STATUSES: Final = frozenset(s for s in AlertStatus if s is not AlertStatus.CLOSED)
AlertKey = tuple[int, str]  # (ts_ns, alert_id) of an alert
CaseKey = tuple[int, str]  # (opened_ns, case_id) of a case


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a list shows: every field given narrows it (None: no filter on that field).

    ``statuses`` is a set (the web's "open" is every status but closed; an empty set matches
    nothing); ``since_ns``/``until_ns`` bound the alert's time as ``[since, until)``.
    """

    rule: str | None = None
    severity: str | None = None
    subject: str | None = None
    statuses: frozenset[AlertStatus] | None = None
    queue: Queue | None = None
    case_id: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None

    def digest(self) -> str:
        """A short, stable fingerprint of the filter set (a cursor carries it to refuse other filters)."""
        fields: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity,
            "subject": self.subject,
            "statuses": None if self.statuses is None else sorted(s.value for s in self.statuses),
            "queue": None if self.queue is None else self.queue.value,
            "case_id": self.case_id,
            "since_ns": self.since_ns,
            "until_ns": self.until_ns,
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]

    def conditions(self, hide_subject: str | None) -> list[ColumnElement[bool]]:
        """The WHERE clauses of this filter; ``hide_subject``'s own alerts are left out too."""
        c = case_alerts.c
        found: list[ColumnElement[bool]] = []
        equal = {c.rule: self.rule, c.severity: self.severity, c.actor: self.subject, c.case_id: self.case_id}
        found += [column == value for column, value in equal.items() if value is not None]
        if self.statuses is not None:
            wanted = sorted(s.value for s in self.statuses)
            found.append(c.status.in_(wanted) if wanted else false())
        if self.queue is not None:
            # queues is a comma-joined list; fencing it with commas matches whole names only.
            fenced = literal(",").concat(c.queues).concat(",")
            found.append(fenced.like(f"%,{self.queue.value},%"))
        if self.since_ns is not None:
            found.append(c.ts_ns >= self.since_ns)
        if self.until_ns is not None:
            found.append(c.ts_ns < self.until_ns)
        if hide_subject is not None:
            found.append(c.actor != hide_subject)
        return found


class CaseListing:
    """Paged, filtered reads of the alert and case lists (each method one short read)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def alerts(
        self,
        filters: AlertFilter,
        *,
        hide_subject: str | None = None,
        after: AlertKey | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[StoredAlert]:
        """Matching alerts newest first: after ``after`` (keyset), skipping ``offset``, at most ``limit``."""
        c = case_alerts.c
        query = select(case_alerts).where(*filters.conditions(hide_subject))
        if after is not None:
            ts_ns, alert_id = after
            # The plain bound lets the index scan start at the cursor (an OR alone is only a filter).
            query = query.where(c.ts_ns <= ts_ns, or_(c.ts_ns < ts_ns, c.alert_id > alert_id))
        query = query.order_by(c.ts_ns.desc(), c.alert_id).offset(offset or None).limit(limit)
        with self.engine.connect() as conn:
            return [stored_alert(row) for row in conn.execute(query)]

    def count_alerts(self, filters: AlertFilter, *, hide_subject: str | None = None) -> int:
        query = select(func.count()).select_from(case_alerts).where(*filters.conditions(hide_subject))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def rule_counts(self, case_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per case of ``case_ids``: how many alerts of each rule (one grouped read)."""
        c = case_alerts.c
        counts: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(case_ids), 500):
                query = (
                    select(c.case_id, c.rule, func.count())
                    .where(c.case_id.in_(case_ids[start : start + 500]))
                    .group_by(c.case_id, c.rule)
                )
                for case_id, rule, count in conn.execute(query):
                    counts.setdefault(case_id, {})[rule] = int(count)
        return counts

    def cases(
        self,
        *,
        status: CaseStatus | None = None,
        subject: str | None = None,
        hide_subject: str | None = None,
        after: CaseKey | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases oldest first, after ``after`` (keyset), at most ``limit``; ``hide_subject``'s left out."""
        c = cases.c
        query = select(cases)
        if status is not None:
            query = query.where(c.status == status.value)
        if subject is not None:
            query = query.where(c.subject == subject)
        if hide_subject is not None:
            query = query.where(c.subject != hide_subject)
        if after is not None:
            opened_ns, case_id = after
            query = query.where(c.opened_ns >= opened_ns, or_(c.opened_ns > opened_ns, c.case_id > case_id))
        query = query.order_by(c.opened_ns, c.case_id).limit(limit)
        with self.engine.connect() as conn:
            return [case_of(row) for row in conn.execute(query)]


def scope_of(list_name: str, *parts: object) -> str:
    """A cursor scope: the list's name and a fingerprint of what narrows it."""
    fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{list_name}:{fingerprint}"


def stored_alert(row: Row[Any]) -> StoredAlert:
    """The StoredAlert of a ``case_alerts`` row."""
    alert = Alert(
        row.alert_id,
        row.rule,
        row.severity,
        row.actor,
        row.symbol,
        row.ts_ns,
        tuple(json.loads(row.event_ids)),
        row.explanation,
        row.action,
    )
    return StoredAlert(
        alert=alert,
        queues=tuple(Queue(q) for q in row.queues.split(",") if q),
        status=AlertStatus(row.status),
        case_id=row.case_id,
        received_ns=row.received_ns,
        disposition=None if row.disposition is None else Disposition(row.disposition),
        triaged_ns=row.triaged_ns,
        closed_ns=row.closed_ns,
    )


def case_of(row: Row[Any]) -> Case:
    """The Case of a ``cases`` row."""
    return Case(
        case_id=row.case_id,
        subject=row.subject,
        status=CaseStatus(row.status),
        opened_ns=row.opened_ns,
        assignee=row.assignee,
        closed_ns=row.closed_ns,
        disposition=None if row.disposition is None else Disposition(row.disposition),
    )
