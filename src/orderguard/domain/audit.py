"""What the audit trail records, and the interface every stage writes through.

The canonical byte encoding of an entry and the Merkle log live in
``orderguard.audit``; stages only need ``AuditEntry`` and ``AuditSink``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class AuditAction(StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUSED = "refused"
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    VIEWED = "viewed"
    EXPORTED = "exported"
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    KEY_ROTATED = "key_rotated"
    KEY_REVOKED = "key_revoked"
    DECIDED = "decided"
    REQUESTED = "requested"
    BREAK_GLASS = "break_glass"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    LEGAL_HOLD = "legal_hold"
    ERASED = "erased"
    ALERTED = "alerted"
    CASE_UPDATED = "case_updated"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action as the audit log records it, before the action executes.

    ``ts`` is epoch nanoseconds UTC; ``clock`` names the clock that produced
    it. ``before`` and ``after`` are JSON-ready state snapshots.
    """

    kind: str  # what sort of object: "order", "approval", "role", "key", "case", ...
    action: AuditAction
    object_id: str
    actor: str
    ts: int
    clock: str = "system"
    before: dict[str, object] | None = None
    after: dict[str, object] | None = None
    ip: str | None = None
    session_id: str | None = None
    decision: str | None = None  # "allow" / "deny"
    reason_code: str | None = None
    policy_ids: tuple[str, ...] = field(default=())


class AuditSink(Protocol):
    """Where stages write audit entries.

    ``append`` returns the entry's log index and only returns once the entry
    is durable: a caller may execute the action after it returns, never before.
    """

    def append(self, entry: AuditEntry) -> int: ...
