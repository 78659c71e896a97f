"""Where approval requests live. The engine writes whole requests; stores keep them.

``InMemoryApprovalStore`` serves tests and single-process tools; ``SqlApprovalStore``
(``orderguard.approvals.sql_store``) keeps pending requests across restarts.
"""

from __future__ import annotations

from typing import Protocol

from orderguard.approvals.model import ApprovalRequest, RequestStatus, SensitiveAction


class ApprovalStore(Protocol):
    """Persistence for approval requests. ``save`` replaces the stored request of the same id."""

    def save(self, request: ApprovalRequest) -> None: ...

    def get(self, request_id: str) -> ApprovalRequest | None: ...

    def by_object(self, action: SensitiveAction, object_id: str) -> ApprovalRequest | None:
        """The newest request for this action on this object."""
        ...

    def requests(self, status: RequestStatus | None = None) -> list[ApprovalRequest]: ...


class InMemoryApprovalStore:
    """Requests in dictionaries; lost when the process ends."""

    def __init__(self) -> None:
        self._requests: dict[str, ApprovalRequest] = {}
        self._by_object: dict[tuple[SensitiveAction, str], str] = {}

    def save(self, request: ApprovalRequest) -> None:
        self._requests[request.id] = request
        key = (request.action, request.object_id)
        current = self._by_object.get(key)
        if current is None or self._requests[current].created_ns <= request.created_ns:
            self._by_object[key] = request.id

    def get(self, request_id: str) -> ApprovalRequest | None:
        return self._requests.get(request_id)

    def by_object(self, action: SensitiveAction, object_id: str) -> ApprovalRequest | None:
        request_id = self._by_object.get((action, object_id))
        return None if request_id is None else self._requests[request_id]

    def requests(self, status: RequestStatus | None = None) -> list[ApprovalRequest]:
        return [r for r in self._requests.values() if status is None or r.status is status]
