"""Alerts as compliance works them, cases, comments, evidence and responses, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from orderguard.domain.alerts import Alert
from orderguard.domain.decisions import Decision


class Queue(StrEnum):
    COMPLIANCE = "compliance"
    SECURITY = "security"


class AlertStatus(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Disposition(StrEnum):
    FALSE_POSITIVE = "false_positive"
    POLICY_VIOLATION = "policy_violation"
    NEEDS_TRAINING = "needs_training"
    REFERRED = "referred"
    BENIGN = "benign"  # real activity, explained and allowed
    DUPLICATE = "duplicate"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ResponseKind(StrEnum):
    BLOCK = "block"
    SUSPEND = "suspend"
    LEGAL_HOLD = "legal_hold"
    REAPPROVAL = "reapproval"


# Which status an alert may move to from each status; a closed alert stays closed.
TRANSITIONS: Final[dict[AlertStatus, frozenset[AlertStatus]]] = {
    AlertStatus.NEW: frozenset({AlertStatus.TRIAGE, AlertStatus.ESCALATED, AlertStatus.CLOSED}),
    AlertStatus.TRIAGE: frozenset({AlertStatus.ESCALATED, AlertStatus.CLOSED}),
    AlertStatus.ESCALATED: frozenset({AlertStatus.CLOSED}),
    AlertStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert in the store: the finding itself plus where it is routed and how far it is worked."""

    alert: Alert
    queues: tuple[Queue, ...]
    status: AlertStatus
    case_id: str
    received_ns: int
    disposition: Disposition | None = None
    triaged_ns: int | None = None
    closed_ns: int | None = None

    @property
    def alert_id(self) -> str:
        return self.alert.alert_id

    def to_record(self) -> dict[str, object]:
        """The alert-format record plus the working fields (JSON-ready)."""
        return {
            **self.alert.to_record(),
            "queues": [q.value for q in self.queues],
            "status": self.status.value,
            "disposition": None if self.disposition is None else self.disposition.value,
            "case_id": self.case_id,
        }


@dataclass(frozen=True, slots=True)
class Case:
    """The open investigation of one subject (the employee the alerts are about)."""

    case_id: str
    subject: str
    status: CaseStatus
    opened_ns: int
    assignee: str | None = None
    closed_ns: int | None = None
    disposition: Disposition | None = None

    def summary(self) -> dict[str, object]:
        return {
            "case_id": self.case_id,
            "subject": self.subject,
            "status": self.status.value,
            "assignee": self.assignee,
            "disposition": None if self.disposition is None else self.disposition.value,
        }


@dataclass(frozen=True, slots=True)
class Comment:
    case_id: str
    seq: int
    author: str
    ts_ns: int
    body: str


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """A snapshot attached to a case: an event record, or an audit entry with its inclusion proof."""

    case_id: str
    seq: int
    kind: str  # "event" or "audit_entry"
    ref: str
    added_by: str
    ts_ns: int
    content: dict[str, object]


@dataclass(frozen=True, slots=True)
class BlockedPattern:
    """Orders matching every field that is set are refused; ``None`` matches anything."""

    actor: str
    symbol: str | None = None
    account: str | None = None
    venue: str | None = None

    def matches(self, actor: str, *, symbol: str | None, account: str | None, venue: str | None) -> bool:
        return (
            actor == self.actor
            and (self.symbol is None or self.symbol == symbol)
            and (self.account is None or self.account == account)
            and (self.venue is None or self.venue == venue)
        )

    def describe(self) -> str:
        parts = [f"actor={self.actor}"]
        parts += [f"{name}={value}" for name, value in self.fields().items() if value is not None]
        return ", ".join(parts)

    def fields(self) -> dict[str, str | None]:
        return {"symbol": self.symbol, "account": self.account, "venue": self.venue}


@dataclass(frozen=True, slots=True)
class Response:
    """One response taken against a subject; active until ``lifted_ns`` is set."""

    response_id: str
    kind: ResponseKind
    subject: str
    reason: str
    created_by: str
    created_ns: int
    case_id: str | None = None
    pattern: BlockedPattern | None = None
    lifted_by: str | None = None
    lifted_ns: int | None = None
    approval_id: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_ns is None

    def summary(self) -> dict[str, object]:
        return {
            "response_id": self.response_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "case_id": self.case_id,
            "pattern": None if self.pattern is None else self.pattern.describe(),
            "reason": self.reason,
            "active": self.active,
            "approval_id": self.approval_id,
        }


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything an investigator sees when opening a case."""

    case: Case
    alerts: tuple[StoredAlert, ...]
    comments: tuple[Comment, ...]
    evidence: tuple[EvidenceItem, ...]
    responses: tuple[Response, ...] = field(default=())


class CaseError(ValueError):
    """A request the case service cannot carry out (unknown id, wrong state); the message says the fix."""


class AccessDeniedError(PermissionError):
    """Refused by the case service's access rules; the refusal is in the audit log at ``audit_index``."""

    def __init__(self, decision: Decision, audit_index: int) -> None:
        super().__init__(f"{decision} (refusal logged at audit index {audit_index})")
        self.decision = decision
        self.audit_index = audit_index
