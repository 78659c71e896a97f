"""A subject's activity around an alert: orders, personal trades, executions, views, exports and
logins from the event store, and approvals and other audited actions from the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orderguard.cases.evidence import AuditEvidence
from orderguard.domain import Event, EventKind
from orderguard.storage.events_store import EventStore


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing the subject did (or that happened on their accounts), in time order."""

    ts_ns: int
    source: str  # "event" or "audit"
    kind: str  # event kind, or "<audit kind>:<audit action>"
    ref: str  # event id, or audit log index
    summary: str

    def to_record(self) -> dict[str, object]:
        return {
            "ts_ns": self.ts_ns,
            "source": self.source,
            "kind": self.kind,
            "ref": self.ref,
            "summary": self.summary,
        }


def describe_event(event: Event) -> str:  # noqa: PLR0911 - one sentence per event kind
    """A one-line, human sentence for an event."""
    trade = f"{event.side} {event.qty:g} {event.symbol}" if event.side and event.qty is not None else ""
    price = f" @ {event.price:g}" if event.price is not None else ""
    if event.kind in (EventKind.CLIENT_ORDER, EventKind.EXECUTION):
        return f"{event.kind.value} {trade}{price} on {event.account} (order {event.order_id})"
    if event.kind is EventKind.PERSONAL_TRADE:
        return f"personal trade {trade}{price} on {event.account}"
    if event.kind is EventKind.ORDER_VIEW:
        return f"viewed {event.records} client-order records of {event.account}"
    if event.kind is EventKind.DATA_EXPORT:
        return f"exported {event.records} records" + (f" of {event.account}" if event.account else "")
    if event.kind is EventKind.LOGIN:
        return f"login from {event.ip or 'unknown address'}"
    if event.kind is EventKind.ROUTE_CHANGE:
        return f"route changed to venue {event.venue}"
    return f"{event.kind.value} of order {event.order_id}"


def subject_events(
    events: EventStore, subject: str, accounts: Iterable[str], start_ns: int, end_ns: int
) -> list[Event]:
    """Events done by ``subject`` or on their personal ``accounts`` in ``[start_ns, end_ns)``."""
    found = {e.event_id: e for e in events.by_actor(subject, start_ns, end_ns)}
    for account in accounts:
        found.update((e.event_id, e) for e in events.by_account(account, start_ns, end_ns))
    return sorted(found.values(), key=lambda e: (e.ts, e.seq))


def build_timeline(
    subject: str,
    start_ns: int,
    end_ns: int,
    *,
    events: EventStore | None,
    accounts: Iterable[str] = (),
    audit: AuditEvidence | None = None,
) -> list[TimelineEntry]:
    """The subject's activity in ``[start_ns, end_ns)`` from every source wired, in time order."""
    entries: list[TimelineEntry] = []
    if events is not None:
        entries.extend(
            TimelineEntry(event.ts, "event", event.kind.value, event.event_id, describe_event(event))
            for event in subject_events(events, subject, accounts, start_ns, end_ns)
        )
    if audit is not None:
        for index, header in audit.find(actors={subject}, start_ns=start_ns, end_ns=end_ns):
            kind = f"{header.get('kind')}:{header.get('action')}"
            decision = f" ({header['decision']})" if header.get("decision") else ""
            entries.append(
                TimelineEntry(
                    int(header.get("ts_ns", 0)),  # type: ignore[call-overload]
                    "audit",
                    kind,
                    str(index),
                    f"{header.get('action')} {header.get('kind')} {header.get('object_id')}{decision}",
                )
            )
    return sorted(entries, key=lambda e: (e.ts_ns, e.source, e.ref))
