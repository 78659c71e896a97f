"""Incident playbooks as service functions: contain, investigate, preserve, and the front-running
impact. The HTTP API exposes the same steps; the functional tests run them end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orderguard.audit.keys import KeySet
from orderguard.cases.findings import FrontRunningImpact, review_access
from orderguard.cases.findings import front_running_impact as impact_of
from orderguard.cases.model import AlertStatus, CaseError, Response
from orderguard.cases.stack import CasesStack
from orderguard.cases.timeline import TimelineEntry, subject_events
from orderguard.domain import AuditAction, AuditEntry, Event, ReasonCode

__all__ = [
    "Containment",
    "FrontRunningImpact",
    "Investigation",
    "contain",
    "front_running_impact",
    "investigate_access",
    "preserve",
]

HOUR_NS = 3600 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Containment:
    """The immediate actions taken on an alert."""

    suspension: Response
    hold: Response
    notified: tuple[str, ...]


def contain(stack: CasesStack, alert_id: str, *, responder: str, reason: str) -> Containment:
    """Immediate actions: escalate the alert, suspend the subject, put their records on legal
    hold and notify every notifier (security's webhook among them)."""
    alert = stack.alerts.get(alert_id, actor=responder)
    if alert.status is not AlertStatus.ESCALATED:
        alert = stack.alerts.escalate(alert_id, actor=responder)
    subject = alert.alert.actor
    suspension = stack.responses.suspend(subject, actor=responder, reason=reason, case_id=alert.case_id)
    hold = stack.responses.legal_hold(subject, actor=responder, reason=reason, case_id=alert.case_id)
    notified: tuple[str, ...] = ()
    if stack.dispatcher is not None:
        stack.dispatcher.submit(alert)
        notified = stack.dispatcher.names
    return Containment(suspension, hold, notified)


@dataclass(frozen=True, slots=True)
class Investigation:
    """What the subject looked at and what they traded in it."""

    timeline: list[TimelineEntry]
    viewed_accounts: tuple[str, ...]
    viewed_symbols: tuple[str, ...]
    related_trades: tuple[Event, ...]


def investigate_access(
    stack: CasesStack,
    case_id: str,
    *,
    investigator: str,
    before_ns: int = 24 * HOUR_NS,
    after_ns: int = 24 * HOUR_NS,
) -> Investigation:
    """Investigation: the timeline, the client accounts and symbols the subject viewed, and the
    subject's own trades (personal, or orders they entered) in those symbols or accounts."""
    if stack.events is None:
        raise CaseError("investigation needs the event store: build the cases stack with events")
    view = stack.cases.show(case_id, actor=investigator)
    timeline = stack.cases.timeline(case_id, actor=investigator, before_ns=before_ns, after_ns=after_ns)
    start = min(a.alert.ts for a in view.alerts) - before_ns
    end = max(a.alert.ts for a in view.alerts) + after_ns + 1
    subject = view.case.subject
    activity = subject_events(stack.events, subject, stack.cases.personal_accounts(subject), start, end)
    review = review_access(stack.events, activity, start, end)
    return Investigation(timeline, review.viewed_accounts, review.viewed_symbols, review.related_trades)


def preserve(
    stack: CasesStack, case_id: str, *, investigator: str, out: Path, keys: KeySet
) -> tuple[int, int]:
    """Preservation: attach the alerts' events and audit entries to the case, then export an
    evidence bundle (everything about the case plus every audited action of the subject) that
    verifies offline. Returns (entries, checkpoint size)."""
    if stack.audit_evidence is None:
        raise CaseError("preservation needs the real AuditLog: build the cases stack with it")
    view = stack.cases.show(case_id, actor=investigator)
    stack.cases.attach_alert_evidence(case_id, actor=investigator)
    objects = {case_id, *(a.alert_id for a in view.alerts), *(r.response_id for r in view.responses)}
    subject = view.case.subject
    indexes = [i for i, _ in stack.audit_evidence.find(objects=objects, actors={subject})]
    stack.audit_evidence.log.append(
        AuditEntry(
            kind="case",
            action=AuditAction.EXPORTED,
            object_id=case_id,
            actor=investigator,
            ts=stack.access.clock(),
            after={"bundle": out.name, "entries": len(indexes)},
            decision="allow",
            reason_code=ReasonCode.ALLOWED.value,
        )
    )
    return stack.audit_evidence.export(indexes, out, keys)


def front_running_impact(stack: CasesStack, case_id: str, *, investigator: str) -> list[FrontRunningImpact]:
    """For each front-running alert of a case, link the personal trade and the client order and
    price the move the client suffered."""
    if stack.events is None:
        raise CaseError("front-running impact needs the event store: build the cases stack with events")
    view = stack.cases.show(case_id, actor=investigator)
    found = (impact_of(stack.events, a.alert) for a in view.alerts if a.alert.rule == "front_running")
    return [impact for impact in found if impact is not None]
