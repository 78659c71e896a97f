"""Erasing an audit payload in the app: an ``audit_erasure`` approval, then ``erase`` under legal holds.

The requester names the entry and the reason (a court order reference, say); the approval engine
binds both, with the entry's object and the requester, into the request's digest, so approvers see
exactly what will be erased and why, and the erasure must cite the same reason. Eligible approvers
(never the requester) then vote on it through the ordinary approvals interface. ``erase`` refuses
while a legal hold covers the entry's object or actor, spends the approval, and logs the refusal or
the erasure before anything is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import ApprovalRequest, SensitiveAction
from orderguard.audit.encoding import decode_leaf
from orderguard.audit.erasure import ErasureRequest, erase
from orderguard.audit.log import AuditLog
from orderguard.cases.erasure_authority import HoldAndApprovalAuthority, erasure_content, erasure_object
from orderguard.cases.state import ResponseState
from orderguard.domain import Decision


class ErasureEntryError(ValueError):
    """The entry cannot be erased as asked: it does not exist, or its payload is already gone."""


def _approved_content(request: ErasureRequest) -> dict[str, object]:
    return {
        **erasure_content(request.index, request.object_id, request.requested_by),
        "reason": request.reason,
    }


class ReasonBoundAuthority(HoldAndApprovalAuthority):
    """``HoldAndApprovalAuthority`` whose approval also covers the erasure's reason."""

    def check_approval(self, request: ErasureRequest) -> Decision:
        return self.approvals.execute(
            request.approval,
            SensitiveAction.AUDIT_ERASURE,
            erasure_object(request.index),
            _approved_content(request),
            actor=request.requested_by,
            now=self.clock(),
        )


@dataclass(frozen=True, slots=True)
class ErasureDesk:
    """Ask for, and carry out, the erasure of one audit entry's payload."""

    log: AuditLog
    approvals: ApprovalEngine
    state: ResponseState
    clock: Callable[[], int]

    def object_of(self, index: int) -> str:
        """The ``object_id`` of entry ``index``, or ``ErasureEntryError`` if it cannot be erased."""
        stored = self.log.store.entry(index)
        if stored is None:
            raise ErasureEntryError(
                f"no audit entry at index {index}; the log has {self.log.head()[0]} entries"
            )
        if stored[4] is None:
            raise ErasureEntryError(f"the payload of audit entry {index} is already erased")
        return str(decode_leaf(stored[2]).header.get("object_id", ""))

    def request(
        self, index: int, *, requested_by: str, reason: str
    ) -> tuple[Decision, ApprovalRequest | None]:
        """Open the ``audit_erasure`` approval request for entry ``index`` with ``reason``."""
        if not reason.strip():
            raise ErasureEntryError("reason: erasure needs a reason (e.g. the court order reference)")
        wanted = ErasureRequest(index, self.object_of(index), requested_by, reason, approval="")
        return self.approvals.open(
            SensitiveAction.AUDIT_ERASURE,
            erasure_object(index),
            requested_by,
            _approved_content(wanted),
            self.clock(),
        )

    def erase(self, index: int, *, requested_by: str, reason: str, approval: str) -> int:
        """Erase entry ``index``'s payload under ``approval``; returns the index of the ``erased`` entry.

        Raises ``ErasureRefusedError`` (logged) under a legal hold or without a matching approval, and
        ``ErasureEntryError`` for a missing or already erased entry.
        """
        self.object_of(index)
        authority = ReasonBoundAuthority(self.state, self.approvals, self.clock)
        try:
            return erase(
                self.log, authority, index=index, requested_by=requested_by, reason=reason, approval=approval
            )
        except ValueError as exc:  # erase's own checks (blank reason, raced erasure)
            raise ErasureEntryError(str(exc)) from None
