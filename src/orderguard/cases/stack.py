"""The composition root of the cases stage: one object wiring stores, access rules, services,
response state, notifiers and metrics for a firm."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from orderguard.audit.log import AuditLog
from orderguard.cases.access import CaseAccess
from orderguard.cases.alerts import AlertService
from orderguard.cases.approvals_bridge import LiftApprovals, ReapprovalHook
from orderguard.cases.evidence import AuditEvidence
from orderguard.cases.lists import ListReader
from orderguard.cases.metrics import CaseMetrics
from orderguard.cases.notify import NotificationDispatcher, Notifier
from orderguard.cases.response_store import ResponseStore
from orderguard.cases.responses import ResponseService, SuspensionListener
from orderguard.cases.service import CaseService
from orderguard.cases.state import ResponseState
from orderguard.cases.store import CaseStore
from orderguard.config import FirmConfig
from orderguard.domain import AuditSink
from orderguard.storage.events_store import EventStore


@dataclass(frozen=True, slots=True)
class CasesStack:
    """Every part of the cases stage, wired for one firm and one database."""

    config: FirmConfig
    store: CaseStore
    response_store: ResponseStore
    state: ResponseState
    access: CaseAccess
    responses: ResponseService
    alerts: AlertService
    cases: CaseService
    metrics: CaseMetrics
    dispatcher: NotificationDispatcher | None
    audit_evidence: AuditEvidence | None
    events: EventStore | None
    lists: ListReader  # the alert queue and case list, paged in SQL

    def close(self) -> None:
        """Stop the notifier workers (deliveries not made stay in the outbox)."""
        if self.dispatcher is not None:
            self.dispatcher.close()


def build_cases(
    config: FirmConfig,
    engine: Engine,
    audit: AuditSink,
    *,
    events: EventStore | None = None,
    notifiers: Sequence[Notifier] = (),
    lift_approvals: LiftApprovals | None = None,
    reapproval: ReapprovalHook | None = None,
    listeners: Sequence[SuspensionListener] = (),
    metrics: CaseMetrics | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> CasesStack:
    """Wire the cases stage on a migrated database. When ``audit`` is the real ``AuditLog``,
    evidence carries inclusion proofs and bundles can be exported."""
    store, response_store = CaseStore(engine), ResponseStore(engine)
    if metrics is None:
        metrics = CaseMetrics()
        metrics.seed_outcomes(store.rule_outcomes())
    access = CaseAccess(config, audit, clock)
    state = ResponseState(response_store, store, config, events)
    responses = ResponseService(
        response_store,
        state,
        access,
        audit,
        clock,
        lift_approvals=lift_approvals,
        reapproval=reapproval,
        listeners=listeners,
    )
    dispatcher = (
        NotificationDispatcher(notifiers, response_store, store.alert, clock, metrics.notification_failed)
        if notifiers
        else None
    )
    alerts = AlertService(
        store,
        access,
        audit,
        clock,
        responses=responses,
        dispatcher=dispatcher,
        metrics=metrics,
        events=events,
    )
    audit_evidence = AuditEvidence(audit) if isinstance(audit, AuditLog) else None
    cases = CaseService(
        store,
        response_store,
        alerts=alerts,
        access=access,
        audit=audit,
        config=config,
        clock=clock,
        events=events,
        audit_evidence=audit_evidence,
    )
    return CasesStack(
        config,
        store,
        response_store,
        state,
        access,
        responses,
        alerts,
        cases,
        metrics,
        dispatcher,
        audit_evidence,
        events,
        ListReader(store, access),
    )
