"""Responses and the notification outbox in SQLite or PostgreSQL (tables from migration 0005_cases)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, update

from orderguard.cases.model import BlockedPattern, Response, ResponseKind
from orderguard.cases.store import where_given
from orderguard.storage.cases_tables import case_notifications, case_responses


class ResponseStore:
    """Response rows are inserted once and only ever stamped as lifted, never deleted."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, response: Response) -> None:
        pattern = response.pattern
        with self.engine.begin() as conn:
            conn.execute(
                case_responses.insert().values(
                    response_id=response.response_id,
                    kind=response.kind.value,
                    subject=response.subject,
                    pattern=None
                    if pattern is None
                    else json.dumps({"actor": pattern.actor, **pattern.fields()}),
                    case_id=response.case_id,
                    reason=response.reason,
                    created_by=response.created_by,
                    created_ns=response.created_ns,
                    approval_id=response.approval_id,
                )
            )

    def mark_lifted(self, response_id: str, lifted_by: str, lifted_ns: int, approval_id: str | None) -> bool:
        """Stamp an active response as lifted; False if it was not active."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(case_responses)
                .where(case_responses.c.response_id == response_id, case_responses.c.lifted_ns.is_(None))
                .values(lifted_by=lifted_by, lifted_ns=lifted_ns, approval_id=approval_id)
            )
        return done.rowcount == 1

    def get(self, response_id: str) -> Response | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(case_responses).where(case_responses.c.response_id == response_id)
            ).first()
        return None if row is None else _response(row)

    def responses(
        self,
        *,
        kind: ResponseKind | None = None,
        subject: str | None = None,
        case_id: str | None = None,
        active_only: bool = False,
    ) -> list[Response]:
        c = case_responses.c
        equal = {c.kind: None if kind is None else kind.value, c.subject: subject, c.case_id: case_id}
        query = where_given(select(case_responses), equal)
        if active_only:
            query = query.where(case_responses.c.lifted_ns.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(case_responses.c.created_ns, case_responses.c.response_id))
            return [_response(row) for row in rows]

    # --- notification outbox ---------------------------------------------------------------------
    def note_notification(
        self, alert_id: str, notifier: str, *, status: str, attempts: int, error: str | None, now: int
    ) -> None:
        """Record the delivery state of ``alert_id`` to ``notifier`` (insert or replace)."""
        values = {"status": status, "attempts": attempts, "last_error": error, "updated_ns": now}
        with self.engine.begin() as conn:
            _put_notification(conn, alert_id, notifier, values)

    def note_pending(self, alert_ids: list[str], notifiers: tuple[str, ...], now: int) -> None:
        """Record every (alert, notifier) delivery as pending, in one transaction."""
        keys = [(a, n) for a in alert_ids for n in notifiers]
        if not keys:
            return
        values = {"status": "pending", "attempts": 0, "last_error": None, "updated_ns": now}
        with self.engine.begin() as conn:
            for alert_id, notifier in keys:
                _put_notification(conn, alert_id, notifier, values)

    def notifications(self, status: str | None = None) -> list[tuple[str, str, str, int, str | None]]:
        """(alert_id, notifier, status, attempts, last_error) rows, optionally of one status."""
        query = select(
            case_notifications.c.alert_id,
            case_notifications.c.notifier,
            case_notifications.c.status,
            case_notifications.c.attempts,
            case_notifications.c.last_error,
        )
        if status is not None:
            query = query.where(case_notifications.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(case_notifications.c.alert_id, case_notifications.c.notifier))
            return [(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows]


def _put_notification(conn: Connection, alert_id: str, notifier: str, values: dict[str, object]) -> None:
    """Insert or replace the delivery row of (``alert_id``, ``notifier``) within ``conn``'s transaction."""
    done = conn.execute(
        update(case_notifications)
        .where(case_notifications.c.alert_id == alert_id, case_notifications.c.notifier == notifier)
        .values(**values)
    )
    if done.rowcount == 0:
        conn.execute(case_notifications.insert().values(alert_id=alert_id, notifier=notifier, **values))


def _response(row: Row[Any]) -> Response:
    pattern = None
    if row.pattern is not None:
        fields = json.loads(row.pattern)
        pattern = BlockedPattern(
            fields["actor"], fields.get("symbol"), fields.get("account"), fields.get("venue")
        )
    return Response(
        response_id=row.response_id,
        kind=ResponseKind(row.kind),
        subject=row.subject,
        reason=row.reason,
        created_by=row.created_by,
        created_ns=row.created_ns,
        case_id=row.case_id,
        pattern=pattern,
        lifted_by=row.lifted_by,
        lifted_ns=row.lifted_ns,
        approval_id=row.approval_id,
    )
