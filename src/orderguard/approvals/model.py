"""Approval requests, votes and break-glass grants as plain values.

A request is bound to a SHA-256 digest of its canonical content. A vote names the request id and
the digest it approved, so it never counts for another request or for changed content (a stale
vote stays on record but is not counted, like a dismissed stale review).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from orderguard.domain import Role

# Content fields naming a person who benefits from the action: they may never approve it.
INTERESTED_KEYS = ("actor", "target", "beneficiary")


class SensitiveAction(StrEnum):
    LARGE_ORDER = "large_order"
    WITHDRAWAL = "withdrawal"
    DEPLOY = "deploy"
    VENUE_CHANGE = "venue_change"
    ROUTE_CHANGE = "route_change"
    KEY_OPERATION = "key_operation"
    ROLE_GRANT = "role_grant"
    AUDIT_ERASURE = "audit_erasure"
    SUSPENSION_LIFT = "suspension_lift"  # reinstating a principal suspended by an incident response


# Where an emergency may bypass the quorum (see approvals/breakglass.py): never who-may-do-what
# changes, money leaving, evidence erasure or a suspension lift.
BREAK_GLASS_ACTIONS = frozenset(
    {SensitiveAction.LARGE_ORDER, SensitiveAction.DEPLOY, SensitiveAction.KEY_OPERATION}
)


class RequestStatus(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request to a stage came from, for its audit entries: the caller's IP and credential
    (``token:<id>``, ``web:<session ref>``, ``oidc:<jti>``), as the interfaces know them."""

    ip: str | None = None
    session_id: str | None = None


NOWHERE = Origin()  # in-process callers (tests, the CLI) that have no IP or session


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """Who may approve an action and how many of them must."""

    action: SensitiveAction
    quorum: int
    eligible_roles: frozenset[Role]
    ttl_seconds: float


def canonical_digest(action: SensitiveAction, object_id: str, content: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical JSON of what is being approved."""
    payload = {"action": action.value, "object_id": object_id, "content": content}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's approval or rejection of one request at one digest."""

    request_id: str
    approver: str
    digest: str
    verdict: Verdict
    ts: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class BreakGlassGrant:
    """An emergency bypass of a quorum: reasoned, short-lived, reviewed by a second person."""

    request_id: str
    invoker: str
    reason: str
    created_ns: int
    expires_ns: int
    notified: tuple[str, ...]
    review_closed_by: str | None = None
    review_closed_ns: int | None = None
    review_note: str = ""

    def active(self, now: int) -> bool:
        return now < self.expires_ns

    @property
    def review_open(self) -> bool:
        return self.review_closed_by is None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A sensitive action waiting for (or past) its quorum."""

    id: str
    action: SensitiveAction
    object_id: str
    initiator: str
    content: Mapping[str, object]
    digest: str
    created_ns: int
    expires_ns: int
    quorum: int
    eligible_roles: frozenset[Role]
    status: RequestStatus = RequestStatus.PENDING
    votes: tuple[Vote, ...] = ()
    closed_reason: str = ""
    break_glass: BreakGlassGrant | None = field(default=None)

    def interested(self) -> frozenset[str]:
        """Who may never approve this request: the initiator and anyone its content acts for or on
        (``actor`` of an order, ``target`` of a role grant)."""
        named = (self.content.get(key) for key in INTERESTED_KEYS)
        return frozenset({self.initiator, *(n for n in named if isinstance(n, str))})

    def current_approvers(self) -> frozenset[str]:
        """Distinct approvers whose approval matches the current digest (each counted once)."""
        barred = self.interested()
        return frozenset(
            v.approver
            for v in self.votes
            if v.verdict is Verdict.APPROVE and v.digest == self.digest and v.approver not in barred
        )

    @property
    def quorum_met(self) -> bool:
        return len(self.current_approvers()) >= self.quorum

    def summary(self) -> dict[str, object]:
        """JSON-ready snapshot for the audit log."""
        return {
            "request_id": self.id,
            "action": self.action.value,
            "object_id": self.object_id,
            "initiator": self.initiator,
            "digest": self.digest,
            "status": self.status.value,
            "approvers": sorted(self.current_approvers()),
            "quorum": self.quorum,
            "expires_ns": self.expires_ns,
        }
