"""Incident playbooks as service functions: contain, investigate, preserve, and the front-running
impact. The HTTP API exposes the same steps; the functional tests run them end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orderguard.audit.keys import KeySet
from orderguard.cases.event_lookup import events_by_id
from orderguard.cases.model import AlertStatus, CaseError, Response
from orderguard.cases.stack import CasesStack
from orderguard.cases.timeline import TimelineEntry, subject_events
from orderguard.domain import AuditAction, AuditEntry, Event, EventKind, ReasonCode, Side

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
    views = [e for e in activity if e.kind in (EventKind.ORDER_VIEW, EventKind.DATA_EXPORT) and e.account]
    accounts = tuple(sorted({e.account for e in views if e.account}))
    symbols = {e.symbol for e in views if e.symbol}
    for account in accounts:
        symbols |= {e.symbol for e in stack.events.by_account(account, start, end) if e.symbol}
    trading = (EventKind.PERSONAL_TRADE, EventKind.CLIENT_ORDER, EventKind.EXECUTION)
    related = tuple(
        e for e in activity if e.kind in trading and (e.symbol in symbols or e.account in accounts)
    )
    return Investigation(timeline, accounts, tuple(sorted(symbols)), related)


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


@dataclass(frozen=True, slots=True)
class FrontRunningImpact:
    """The client's cost from a front-run: executions compared with the employee's earlier trade."""

    alert_id: str
    personal_trade: Event
    client_order: Event
    executions: tuple[Event, ...]
    client_qty: float
    price_move: float  # per share, against the client (positive: the client paid more / got less)
    client_cost: float  # sum over executions of price_move x executed qty


def front_running_impact(stack: CasesStack, case_id: str, *, investigator: str) -> list[FrontRunningImpact]:
    """For each front-running alert of a case, link the personal trade and the client order and
    price the move the client suffered."""
    if stack.events is None:
        raise CaseError("front-running impact needs the event store: build the cases stack with events")
    view = stack.cases.show(case_id, actor=investigator)
    impacts: list[FrontRunningImpact] = []
    for alert in view.alerts:
        if alert.alert.rule != "front_running":
            continue
        key = events_by_id(stack.events, alert.alert.event_ids)
        personal = next((e for e in key if e.kind is EventKind.PERSONAL_TRADE), None)
        order = next((e for e in key if e.kind is EventKind.CLIENT_ORDER), None)
        if personal is None or order is None or personal.price is None or order.order_id is None:
            continue
        fills = tuple(
            e
            for e in stack.events.by_order(order.order_id)
            if e.kind is EventKind.EXECUTION and e.price is not None
        )
        sign = 1.0 if order.side is Side.BUY else -1.0
        cost = sum(sign * (float(e.price or 0.0) - personal.price) * float(e.qty or 0.0) for e in fills)
        qty = sum(float(e.qty or 0.0) for e in fills)
        move = cost / qty if qty else 0.0
        impacts.append(FrontRunningImpact(alert.alert_id, personal, order, fills, qty, move, cost))
    return impacts
