"""Erasing an entry's payload (a court order, say) without breaking any proof.

The leaf keeps SHA-256(salt || payload), so deleting the payload and salt
leaves every hash, root and proof intact. Erasure is approval-gated and
refused while a legal hold covers the entry's object or actor; both the refusal and
the erasure itself are appended to the log before anything is deleted.
The approval engine and legal holds live elsewhere: they reach this module
through the small ``ErasureAuthority`` protocol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.domain.audit import AuditAction, AuditEntry
from orderguard.domain.decisions import Decision, ReasonCode


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """Who asks to erase which entry's payload, why, and which approval they cite."""

    index: int
    object_id: str
    requested_by: str
    reason: str
    approval: str


class ErasureAuthority(Protocol):
    """What erasure needs from legal holds and approvals.

    ``is_held`` says whether a legal hold covers an object or actor an entry is about;
    ``check_approval`` says whether the cited approval allows this erasure
    (quorum reached, not expired, not by the requester alone). Erasure is
    refused if the object is held, whatever the approval says.
    """

    def is_held(self, object_id: str) -> bool: ...

    def check_approval(self, request: ErasureRequest) -> Decision: ...


class ErasureRefusedError(PermissionError):
    """The erasure was refused; ``decision`` carries the reason code, ``audit_index`` the logged refusal."""

    def __init__(self, decision: Decision, audit_index: int) -> None:
        super().__init__(f"erasure refused: {decision} (logged at index {audit_index})")
        self.decision = decision
        self.audit_index = audit_index


def _record(log: AuditLog, request: ErasureRequest, action: AuditAction, decision: Decision) -> int:
    return log.append(
        AuditEntry(
            kind="audit_entry",
            action=action,
            object_id=str(request.index),
            actor=request.requested_by,
            ts=time.time_ns(),
            decision="allow" if decision.allowed else "deny",
            reason_code=decision.reason.value,
            policy_ids=decision.policy_ids,
            after={"object_id": request.object_id, "reason": request.reason, "approval": request.approval},
        )
    )


def erase(
    log: AuditLog, authority: ErasureAuthority, *, index: int, requested_by: str, reason: str, approval: str
) -> int:
    """Erase the payload of entry ``index``; returns the index of the erasure entry.

    Raises ``ErasureRefusedError`` (after logging the refusal) under legal hold or without approval, and
    ``ValueError`` when the entry does not exist or is already erased.
    """
    if not reason.strip():
        raise ValueError("erasure needs a reason (e.g. the court order reference)")
    stored = log.store.entry(index)
    if stored is None:
        raise ValueError(f"no audit entry at index {index}; the log has {log.head()[0]} entries")
    if stored[4] is None:
        raise ValueError(f"the payload of audit entry {index} is already erased")
    header = decode_leaf(stored[2]).header
    object_id = str(header.get("object_id", ""))
    request = ErasureRequest(index, object_id, requested_by, reason, approval)
    # The record is about its object and about whoever acted: a hold on either keeps it.
    about = dict.fromkeys((object_id, str(header.get("actor") or "")))
    held = [key for key in about if key and authority.is_held(key)]
    if held:
        decision = Decision.deny(ReasonCode.LEGAL_HOLD, f"a legal hold covers {held[0]!r}")
    else:
        decision = authority.check_approval(request)
    if not decision.allowed:
        raise ErasureRefusedError(decision, _record(log, request, AuditAction.REFUSED, decision))
    erasure_index = _record(log, request, AuditAction.ERASED, decision)
    log.store.record_erasure(index, erasure_index, reason)
    return erasure_index
