"""The case service: cases per subject, assignment under separation of duties, comments,
evidence and the subject's timeline. Reads are audited; refusals are audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from orderguard.cases.access import CaseAccess, change_entry
from orderguard.cases.alerts import AlertService
from orderguard.cases.evidence import AuditEvidence
from orderguard.cases.findings import front_running_impact, review_access
from orderguard.cases.model import (
    AlertStatus,
    Case,
    CaseError,
    CaseStatus,
    CaseView,
    Comment,
    Disposition,
    EvidenceItem,
    StoredAlert,
)
from orderguard.cases.response_store import ResponseStore
from orderguard.cases.store import CaseStore
from orderguard.cases.timeline import TimelineEntry, build_timeline, subject_events
from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, AuditSink
from orderguard.storage.events_store import EventStore

HOUR_NS = 3600 * 1_000_000_000


class CaseService:
    """Works cases; every change audited (CASE_UPDATED), every read audited (VIEWED)."""

    def __init__(
        self,
        store: CaseStore,
        responses: ResponseStore,
        *,
        alerts: AlertService,
        access: CaseAccess,
        audit: AuditSink,
        config: FirmConfig,
        clock: Callable[[], int],
        events: EventStore | None = None,
        audit_evidence: AuditEvidence | None = None,
    ) -> None:
        self.store = store
        self.responses = responses
        self.alerts = alerts
        self.access = access
        self.audit = audit
        self.config = config
        self.clock = clock
        self.events = events
        self.audit_evidence = audit_evidence

    # --- reading ---------------------------------------------------------------------------------
    def list_cases(
        self,
        *,
        actor: str,
        status: CaseStatus | None = None,
    ) -> list[Case]:
        """Every case (never the reader's own), oldest first; the listing is audited. Lists a reader
        pages through are read a page at a time by ``cases.lists.ListReader``."""

        def load() -> list[Case]:
            return [c for c in self.store.cases(status) if c.subject != actor]

        return self.access.listing(
            actor,
            kind="case_list",
            object_id="cases",
            load=load,
            detail=lambda found: {"cases": [c.case_id for c in found]},
        )

    def show(self, case_id: str, *, actor: str) -> CaseView:
        """Everything on a case; refused (and audited) for non-investigators and the subject."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=True)
        return CaseView(
            case,
            tuple(self.store.alerts(case_id=case_id)),
            tuple(self.store.comments(case_id)),
            tuple(self.store.evidence(case_id)),
            tuple(self.responses.responses(case_id=case_id)),
        )

    def timeline(
        self, case_id: str, *, actor: str, before_ns: int = 24 * HOUR_NS, after_ns: int = 24 * HOUR_NS
    ) -> list[TimelineEntry]:
        """The subject's activity from ``before_ns`` before the first alert to ``after_ns`` after the last."""
        case = self._case(case_id, actor)
        self.access.require(
            actor,
            kind="case",
            object_id=case_id,
            subject=case.subject,
            read=True,
            detail={"view": "timeline"},
        )
        start, end = self._window(case, self.store.alerts(case_id=case_id), before_ns, after_ns)
        return build_timeline(
            case.subject,
            start,
            end,
            events=self.events,
            accounts=self.personal_accounts(case.subject),
            audit=self.audit_evidence,
        )

    @staticmethod
    def _window(
        case: Case, alerts: Sequence[StoredAlert], before_ns: int = 24 * HOUR_NS, after_ns: int = 24 * HOUR_NS
    ) -> tuple[int, int]:
        """``[start, end)`` from ``before_ns`` before the first alert to ``after_ns`` after the last."""
        first = min((a.alert.ts for a in alerts), default=case.opened_ns)
        last = max((a.alert.ts for a in alerts), default=case.opened_ns)
        return first - before_ns, last + after_ns + 1

    def personal_accounts(self, subject: str) -> tuple[str, ...]:
        for p in self.config.principals:
            if p.id == subject:
                return p.personal_accounts
        return ()

    # --- changing --------------------------------------------------------------------------------
    def assign(self, case_id: str, assignee: str, *, actor: str) -> Case:
        """Assign an investigator: never the subject, nor anyone conflicted with them."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        decision = self.access.conflict(assignee, case.subject)
        if not decision.allowed:
            raise self.access.refuse(actor, "case", case_id, decision)
        return self._update(case, replace(case, assignee=assignee), actor)

    def comment(self, case_id: str, body: str, *, actor: str) -> Comment:
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        if not body.strip():
            raise CaseError("a comment needs text")
        now = self.clock()
        self._record(case_id, actor, after={"comment": body})
        return self.store.add_comment(case_id, actor, now, body)

    def attach_events(self, case_id: str, event_ids: Sequence[str], *, actor: str) -> list[EvidenceItem]:
        """Attach snapshots of stored events; an unknown id is an error and nothing is attached."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        if self.events is None:
            raise CaseError("no event store is wired: build the cases stack with the events database")
        found = self.events.by_ids(event_ids)
        missing = sorted(set(event_ids) - {e.event_id for e in found})
        if missing:
            raise CaseError(f"events {', '.join(missing)} are not in the event store; ingest them first")
        items: list[tuple[str, str, dict[str, object]]] = [
            ("event", e.event_id, e.to_record()) for e in found
        ]
        self._record(case_id, actor, after={"evidence": [("event", e.event_id) for e in found]})
        return self.store.add_evidence(case_id, items, actor, self.clock())

    def attach_audit_entries(self, case_id: str, indexes: Sequence[int], *, actor: str) -> list[EvidenceItem]:
        """Attach audit entries with their inclusion proofs at the current tree head."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        if self.audit_evidence is None:
            raise CaseError("no audit log is wired: build the cases stack with the AuditLog to attach proofs")
        proofs = [self.audit_evidence.prove(i) for i in indexes]
        self._record(case_id, actor, after={"evidence": [("audit_entry", i) for i in indexes]})
        items: list[tuple[str, str, dict[str, object]]] = [
            ("audit_entry", str(p["index"]), p) for p in proofs
        ]
        return self.store.add_evidence(case_id, items, actor, self.clock())

    def attach_alert_evidence(self, case_id: str, *, actor: str) -> list[EvidenceItem]:
        """Attach what the case rests on, each item once: the key events of its alerts (those in the
        event store), the findings drawn from them (``findings``: the access review of what the
        subject viewed and traded in it, the front-running cost to the client) and, when the audit
        log is wired, the audit entries about the case, its alerts and responses and every audited
        action of the subject in the case's window, each with its inclusion proof."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        alerts = self.store.alerts(case_id=case_id)
        attached: list[EvidenceItem] = []
        if self.events is not None:
            already = {e.ref for e in self.store.evidence(case_id) if e.kind == "event"}
            ids = [i for a in alerts for i in a.alert.event_ids if i not in already]
            stored = [e.event_id for e in self.events.by_ids(ids)]
            if stored:
                attached += self.attach_events(case_id, stored, actor=actor)
            attached += self._attach_findings(case, alerts, self.events, actor)
        if self.audit_evidence is not None:
            objects = {case.case_id, *(a.alert_id for a in alerts)}
            objects |= {r.response_id for r in self.responses.responses(case_id=case_id)}
            start, end = self._window(case, alerts)
            found = self.audit_evidence.find(objects=objects)
            found += self.audit_evidence.find(actors={case.subject}, start_ns=start, end_ns=end)
            already = {e.ref for e in self.store.evidence(case_id) if e.kind == "audit_entry"}
            indexes = sorted({i for i, _ in found if str(i) not in already})
            if indexes:
                attached += self.attach_audit_entries(case_id, indexes, actor=actor)
        return attached

    def _attach_findings(
        self, case: Case, alerts: Sequence[StoredAlert], events: EventStore, actor: str
    ) -> list[EvidenceItem]:
        """Attach the findings that differ from the ones already attached (a new snapshot when the
        facts changed, e.g. more executions of a front-run order arrived)."""
        items: list[tuple[str, str, dict[str, object]]] = []
        for alert in (a for a in alerts if a.alert.rule == "front_running"):
            impact = front_running_impact(events, alert.alert)
            if impact is not None:
                items.append(("front_running_impact", alert.alert_id, impact.to_record()))
        start, end = self._window(case, alerts)
        activity = subject_events(events, case.subject, self.personal_accounts(case.subject), start, end)
        review = review_access(events, activity, start, end)
        if review.viewed_accounts:
            items.append(("access_review", case.case_id, review.to_record()))
        latest = {(e.kind, e.ref): e.content for e in self.store.evidence(case.case_id)}
        items = [item for item in items if latest.get(item[:2]) != item[2]]
        if not items:
            return []
        self._record(case.case_id, actor, after={"evidence": [(kind, ref) for kind, ref, _ in items]})
        return self.store.add_evidence(case.case_id, items, actor, self.clock())

    def close(self, case_id: str, disposition: Disposition, *, actor: str) -> Case:
        """Close the case and every alert on it still open, with ``disposition``."""
        case = self._case(case_id, actor)
        self.access.require(actor, kind="case", object_id=case_id, subject=case.subject, read=False)
        if case.status is CaseStatus.CLOSED:
            raise CaseError(f"case {case_id} is already closed")
        for alert in self.store.alerts(case_id=case_id):
            if alert.status is not AlertStatus.CLOSED:
                self.alerts.close(alert.alert_id, actor=actor, disposition=disposition)
        closed = replace(case, status=CaseStatus.CLOSED, closed_ns=self.clock(), disposition=disposition)
        return self._update(case, closed, actor)

    def _update(self, before: Case, after: Case, actor: str) -> Case:
        self._record(before.case_id, actor, before=before.summary(), after=after.summary())
        self.store.update_case(after)
        return after

    def _case(self, case_id: str, actor: str) -> Case:
        case = self.store.case(case_id)
        if case is None:
            # Outsiders are refused (and audited) before they learn whether a case exists.
            self.access.require(actor, kind="case", object_id=case_id, subject=None, read=False)
            raise CaseError(f"no case {case_id!r}; list cases with `orderguard cases list`")
        return case

    def _record(
        self,
        case_id: str,
        actor: str,
        *,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> int:
        entry = change_entry(
            "case", AuditAction.CASE_UPDATED, case_id, actor, self.clock(), before=before, after=after
        )
        return self.audit.append(entry)
