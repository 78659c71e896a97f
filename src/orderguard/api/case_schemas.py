"""Request and response bodies of the alert and case routes (Pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from orderguard.api.schemas import Id, Strict


class AlertOut(BaseModel):
    alert_id: str
    rule: str
    severity: str
    actor: str
    symbol: str | None
    ts: str
    event_ids: list[str]
    explanation: str
    action: str
    status: str
    case_id: str
    queues: list[str]
    disposition: str | None


Dispositions = Literal[
    "false_positive", "policy_violation", "needs_training", "referred", "benign", "duplicate"
]


class AlertMove(Strict):
    status: Literal["triage", "escalated", "closed"]
    disposition: Dispositions | None = None


class CaseOut(BaseModel):
    case_id: str
    subject: str
    status: str
    opened: str
    assignee: str | None
    disposition: str | None


class TimelineOut(BaseModel):
    ts: str
    actor: str
    what: str


class EvidenceOut(BaseModel):
    kind: str
    ref: str
    added_by: str
    added: str
    content: dict[str, object]


class ResponseOut(BaseModel):
    response_id: str
    kind: str
    subject: str
    reason: str
    created_by: str
    created: str
    active: bool
    pattern: str | None = None  # a block's order pattern, e.g. "actor=bob, symbol=AAPL"
    lifted_by: str | None = None
    approval_id: str | None = None


class CaseDetailOut(BaseModel):
    case: CaseOut
    alerts: list[AlertOut]
    comments: list[TimelineOut]
    evidence: list[EvidenceOut]
    responses: list[ResponseOut]
    timeline: list[TimelineOut]


class CommentIn(Strict):
    body: Annotated[str, Field(min_length=1, max_length=5000)]


class CloseIn(Strict):
    disposition: Dispositions


class ResponseIn(Strict):
    kind: Literal["suspend", "legal_hold", "reapproval", "block"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    # A block refuses the subject's orders matching every field given (at least one).
    symbol: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    account: Id | None = None
    venue: Annotated[str | None, Field(min_length=1, max_length=32)] = None


class AssignIn(Strict):
    assignee: Id


class LiftIn(Strict):
    approval_id: Annotated[str, Field(min_length=1, max_length=128)]


class LiftRequestOut(BaseModel):
    response_id: str
    approval_id: str


class ReleaseIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
