"""The ``ErasureAuthority`` that ``orderguard.audit.erasure.erase`` asks: legal holds from the
cases stage, approvals from the approval engine.

An erasure of audit entry N is approved as ``audit_erasure`` on object ``audit:N`` with content
``{"index": N, "object_id": ..., "actor": requester}``; the approval is spent by the erasure, so it
cannot be used twice. A legal hold wins over any approval (``erase`` checks ``is_held`` first).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import SensitiveAction
from orderguard.audit.erasure import ErasureRequest
from orderguard.cases.state import ResponseState
from orderguard.domain import Decision


def erasure_object(index: int) -> str:
    """The approval object id for erasing audit entry ``index``."""
    return f"audit:{index}"


def erasure_content(index: int, object_id: str, requested_by: str) -> dict[str, object]:
    """What approvers of an erasure approve (the requester is barred from approving it)."""
    return {"index": index, "object_id": object_id, "actor": requested_by}


class HoldAndApprovalAuthority:
    """``ErasureAuthority``: held objects from ``ResponseState``, approvals from the engine."""

    def __init__(
        self, state: ResponseState, approvals: ApprovalEngine, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.state = state
        self.approvals = approvals
        self.clock = clock

    def is_held(self, object_id: str) -> bool:
        return self.state.is_held(object_id)

    def check_approval(self, request: ErasureRequest) -> Decision:
        return self.approvals.execute(
            request.approval,
            SensitiveAction.AUDIT_ERASURE,
            erasure_object(request.index),
            erasure_content(request.index, request.object_id, request.requested_by),
            actor=request.requested_by,
            now=self.clock(),
        )
