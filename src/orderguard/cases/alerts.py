"""The alert service: ingest alerts from either surveillance engine once, route them, work them.

Ingestion is idempotent on ``alert_id`` (deterministic from rule and key events), so the stream
and a replay of the same day store each alert once. A new alert joins its subject's open case
(or opens one), is audited (ALERTED) before it is stored, triggers the automatic responses of
its rule action, and is handed to the notifiers without waiting for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from orderguard.audit.log import AuditLog
from orderguard.cases.access import CaseAccess, change_entry
from orderguard.cases.metrics import CaseMetrics
from orderguard.cases.model import (
    TRANSITIONS,
    AlertStatus,
    BlockedPattern,
    Case,
    CaseError,
    CaseStatus,
    Disposition,
    Queue,
    ResponseKind,
    StoredAlert,
)
from orderguard.cases.notify import NotificationDispatcher
from orderguard.cases.responses import SYSTEM_ACTOR, ResponseService
from orderguard.cases.routing import Route, route
from orderguard.cases.store import CaseStore
from orderguard.domain import AuditAction, AuditEntry, AuditSink
from orderguard.domain.alerts import Alert
from orderguard.storage.events_store import EventStore


@dataclass(slots=True)
class IngestResult:
    """What one ingestion did: ids stored now, ids already stored, actions no route knows."""

    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown_actions: dict[str, str] = field(default_factory=dict)  # alert_id -> action


class AlertService:
    """Stores, routes and works alerts; every change audited."""

    def __init__(
        self,
        store: CaseStore,
        access: CaseAccess,
        audit: AuditSink,
        clock: Callable[[], int],
        *,
        responses: ResponseService | None = None,
        dispatcher: NotificationDispatcher | None = None,
        metrics: CaseMetrics | None = None,
        events: EventStore | None = None,
    ) -> None:
        self.store = store
        self.access = access
        self.audit = audit
        self.clock = clock
        self.responses = responses
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.events = events
        self._lock = threading.Lock()  # one ingester at a time: one open case per subject

    # --- ingestion -------------------------------------------------------------------------------
    def ingest(self, alerts: Iterable[Alert], *, chunk: int = 500) -> IngestResult:
        """Store each alert not stored yet; duplicates are counted, never stored twice.

        Alerts are taken ``chunk`` at a time: one audit batch and one transaction per chunk.
        """
        result = IngestResult()
        pending: list[Alert] = []
        for alert in alerts:
            pending.append(alert)
            if len(pending) >= chunk:
                self._ingest_chunk(pending, result)
                pending = []
        if pending:
            self._ingest_chunk(pending, result)
        return result

    def raise_alert(self, alert: Alert) -> None:
        """``orderguard.gateway.gate.AlertSink``: the gateway hands its alerts (a blocked venue) here."""
        self.ingest([alert])

    def _ingest_chunk(self, alerts: list[Alert], result: IngestResult) -> None:
        fresh = self._store_new(alerts)
        notify = list(fresh.values())
        for alert in alerts:
            stored = fresh.pop(alert.alert_id, None)
            if stored is None:
                result.duplicates.append(alert.alert_id)
                continue
            result.stored.append(alert.alert_id)
            path = route(alert.action)
            if path.unknown:
                result.unknown_actions[alert.alert_id] = alert.action
            self._respond(stored, path)
            if self.metrics is not None:
                self.metrics.alert_stored(stored)
        if self.dispatcher is not None and notify:
            self.dispatcher.submit_many(notify)

    def _store_new(self, alerts: list[Alert]) -> dict[str, StoredAlert]:
        """Audit, then store, the alerts of ``alerts`` not stored yet; returns them by id."""
        with self._lock:
            first: dict[str, Alert] = {}
            for alert in alerts:
                first.setdefault(alert.alert_id, alert)
            known = self.store.stored_ids(list(first))
            new = [a for a in first.values() if a.alert_id not in known]
            if not new:
                return {}
            now = self.clock()
            cases: dict[str, Case] = {}
            opened: list[Case] = []
            with self.store.engine.connect() as conn:
                for alert in new:
                    if alert.actor not in cases:
                        case = self.store.open_case_of(conn, alert.actor)
                        if case is None:
                            case = Case(f"case-{alert.alert_id[:16]}", alert.actor, CaseStatus.OPEN, now)
                            opened.append(case)
                        cases[alert.actor] = case
            stored = {
                a.alert_id: StoredAlert(
                    a, route(a.action).queues, AlertStatus.NEW, cases[a.actor].case_id, now
                )
                for a in new
            }
            entries = [self._entry("case", AuditAction.CREATED, c.case_id, after=c.summary()) for c in opened]
            entries += [
                self._entry("alert", AuditAction.ALERTED, i, after=s.to_record()) for i, s in stored.items()
            ]
            if isinstance(self.audit, AuditLog):
                self.audit.append_many(entries)  # one durable batch instead of one sync per entry
            else:
                for entry in entries:
                    self.audit.append(entry)
            with self.store.engine.begin() as conn:
                for case in opened:
                    self.store.insert_case(conn, case)
                inserted = {i for i, s in stored.items() if self.store.insert_alert(conn, s)}
            return {i: s for i, s in stored.items() if i in inserted}

    def _respond(self, stored: StoredAlert, path: Route) -> None:
        if self.responses is None or not path.responses:
            return
        alert = stored.alert
        reason = f"automatic on {alert.rule} alert {alert.alert_id} (action {alert.action})"
        for kind in path.responses:
            pattern = self.pattern_of(alert) if kind is ResponseKind.BLOCK else None
            self.responses.automatic(
                kind, alert.actor, reason=reason, case_id=stored.case_id, pattern=pattern
            )

    def pattern_of(self, alert: Alert) -> BlockedPattern:
        """The order pattern an alert describes: its actor and symbol, plus the venue its key
        events share (looked up in the event store when one is wired)."""
        venue = None
        if self.events is not None:
            venues = {e.venue for e in self.events.by_ids(alert.event_ids) if e.venue}
            venue = venues.pop() if len(venues) == 1 else None
        return BlockedPattern(alert.actor, alert.symbol, None, venue)

    # --- working alerts --------------------------------------------------------------------------
    def triage(self, alert_id: str, *, actor: str) -> StoredAlert:
        return self._move(alert_id, actor, AlertStatus.TRIAGE)

    def escalate(self, alert_id: str, *, actor: str) -> StoredAlert:
        return self._move(alert_id, actor, AlertStatus.ESCALATED)

    def close(self, alert_id: str, *, actor: str, disposition: Disposition) -> StoredAlert:
        return self._move(alert_id, actor, AlertStatus.CLOSED, disposition)

    def _move(
        self, alert_id: str, actor: str, to: AlertStatus, disposition: Disposition | None = None
    ) -> StoredAlert:
        stored = self._get(alert_id, actor)
        self.access.require(actor, kind="alert", object_id=alert_id, subject=stored.alert.actor, read=False)
        if to not in TRANSITIONS[stored.status]:
            allowed = (
                ", ".join(sorted(s.value for s in TRANSITIONS[stored.status])) or "nothing (it is closed)"
            )
            raise CaseError(
                f"alert {alert_id} is {stored.status.value}; it can move to {allowed}, not {to.value}"
            )
        now = self.clock()
        moved = replace(
            stored,
            status=to,
            disposition=disposition if to is AlertStatus.CLOSED else None,
            triaged_ns=stored.triaged_ns if stored.triaged_ns is not None else now,
            closed_ns=now if to is AlertStatus.CLOSED else None,
        )
        self._record(
            "alert",
            AuditAction.CASE_UPDATED,
            alert_id,
            actor,
            before=stored.to_record(),
            after=moved.to_record(),
        )
        self.store.update_alert(moved)
        if self.metrics is not None:
            if stored.triaged_ns is None:
                self.metrics.alert_triaged(moved)
            if to is AlertStatus.CLOSED:
                self.metrics.alert_closed(moved)
        return moved

    # --- reading ---------------------------------------------------------------------------------
    def get(self, alert_id: str, *, actor: str) -> StoredAlert:
        """One alert; the read is audited, and refused to non-investigators and to its subject."""
        stored = self._get(alert_id, actor)
        self.access.require(actor, kind="alert", object_id=alert_id, subject=stored.alert.actor, read=True)
        return stored

    def list_alerts(
        self,
        *,
        actor: str,
        queue: Queue | None = None,
        status: AlertStatus | None = None,
    ) -> list[StoredAlert]:
        """Every alert in a queue (never the reader's own), oldest first; the listing is audited.
        Lists a reader pages through are read a page at a time by ``cases.lists.ListReader``."""

        def load() -> list[StoredAlert]:
            return [a for a in self.store.alerts(queue=queue, status=status) if a.alert.actor != actor]

        return self.access.listing(
            actor,
            kind="alert_list",
            object_id=f"queue:{queue.value if queue else 'all'}",
            load=load,
            detail=lambda found: {"alerts": [a.alert_id for a in found]},
        )

    def _get(self, alert_id: str, actor: str) -> StoredAlert:
        stored = self.store.alert(alert_id)
        if stored is None:
            # Outsiders are refused (and audited) before they learn whether an alert exists.
            self.access.require(actor, kind="alert", object_id=alert_id, subject=None, read=False)
            raise CaseError(f"no alert {alert_id!r}; list alerts with `orderguard alerts list`")
        return stored

    def _record(
        self,
        kind: str,
        action: AuditAction,
        object_id: str,
        actor: str,
        *,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> int:
        return self.audit.append(self._entry(kind, action, object_id, actor, before=before, after=after))

    def _entry(
        self,
        kind: str,
        action: AuditAction,
        object_id: str,
        actor: str = SYSTEM_ACTOR,
        *,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> AuditEntry:
        return change_entry(kind, action, object_id, actor, self.clock(), before=before, after=after)
