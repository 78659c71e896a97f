"""Request and response bodies of the HTTP API (Pydantic), separate from tables and domain types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from orderguard.domain import Decision, Role, Side

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]
Positive = Annotated[float, Field(gt=0, lt=1e12, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionOut(BaseModel):
    allowed: bool
    reason_code: str
    message: str
    policy_ids: list[str]

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            allowed=decision.allowed,
            reason_code=decision.reason.value,
            message=decision.message,
            policy_ids=list(decision.policy_ids),
        )


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    audit_size: int


class Me(BaseModel):
    id: str
    name: str
    roles: list[str]
    desk: str | None
    credential: str | None


class TokenIssue(Strict):
    label: Annotated[str, Field(min_length=1, max_length=64)] = "api"


class TokenIssued(BaseModel):
    token_id: str
    token: str = Field(description="the secret: shown once, never stored")


class TokenOut(BaseModel):
    token_id: str
    owner: str = Field(description="the principal the token acts as")
    label: str
    created_ns: int
    expires_ns: int | None
    revoked_ns: int | None
    state: Literal["active", "revoked", "expired"]


class IngestResult(BaseModel):
    events: int
    first_seq: int
    last_seq: int
    by_kind: dict[str, int]


class OrderIn(Strict):
    order_id: Id
    account: Id
    symbol: Id
    side: Side
    qty: Positive
    price: Positive
    venue: Id
    approval_request_id: Id | None = None


class OrderResult(BaseModel):
    order_id: str
    accepted: bool
    decision: DecisionOut
    audit_index: int
    executions: int
    alerts: list[str]


class OrderOut(BaseModel):
    order_id: str
    actor: str
    account: str
    symbol: str
    side: str
    qty: float
    price: float
    venue: str
    status: str
    reason_code: str


class ApprovalOpen(Strict):
    order: OrderIn


class ApprovalOut(BaseModel):
    request_id: str
    action: str
    object_id: str
    initiator: str
    content: dict[str, object]
    digest: str
    status: str
    quorum: int
    approvers: list[str]
    expires_ns: int
    break_glass: bool


class Vote(Strict):
    digest: Annotated[str, Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]
    note: Annotated[str, Field(max_length=500)] = ""


class VoteResult(BaseModel):
    decision: DecisionOut
    request: ApprovalOut | None


class PreclearanceIn(Strict):
    account: Id
    symbol: Id
    side: Side
    qty: Positive


class PreclearanceOut(BaseModel):
    decision: DecisionOut
    clearance_id: str | None
    expires_ns: int | None


class GrantIn(Strict):
    target: Id
    role: Role


class GrantApply(Strict):
    target: Id
    role: Role


class BreakGlassIn(Strict):
    reason: Annotated[str, Field(max_length=1000)]


class ReviewIn(Strict):
    note: Annotated[str, Field(max_length=1000)]


class CheckpointOut(BaseModel):
    size: int
    root: str
    note: str | None


class ProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class VerifyOut(BaseModel):
    ok: bool | None
    size: int | None = None
    root: str | None = None
    checkpoints_verified: int | None = None
    seconds: float | None = None
    findings: list[str] = []
    verified_at_ns: int | None = None


class ScanIn(Strict):
    start: Annotated[str | None, Field(max_length=40, description="first instant scanned (RFC 3339)")] = None
    end: Annotated[str | None, Field(max_length=40, description="scan stops before this instant")] = None


class RuleCount(BaseModel):
    found: int
    stored: int


class ScanOut(BaseModel):
    events: int
    alerts: int
    stored: int
    duplicates: int
    by_rule: dict[str, RuleCount]
