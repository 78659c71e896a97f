"""Key custody: issuing, rotating and revoking keys, each gated by a second person's approval.

A key custodian requests an operation; another key custodian or a security
officer approves it by signing the request digest. Private keys never pass
through custody: the holder generates its key pair where it will be used and
custody registers the public key. Two separation-of-duties rules hold:
a principal who holds ``key_custodian`` is never issued an order-signing key
(the connector also refuses orders from such a principal), and nobody
approves their own request. Every operation, done or refused, is audited.

Bootstrap: while fewer than two custodian/security approval keys exist, the
approval keys of custodians and security officers may be registered without
an approval; such registrations are audited as ``bootstrap``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Principal, ReasonCode, Role
from orderguard.execution.keys import DESK_OWNER_PREFIX, KeyDirectory, KeyPurpose, KeyRecord, key_id_for
from orderguard.execution.keystore import KeyStore
from orderguard.execution.signing import Approval, Context, verify

SERVICE_OWNER_PREFIX = "service:"  # owner of a component key: "service:connector-1", "service:controls"
_KEY_ADMINS = frozenset({Role.KEY_CUSTODIAN, Role.SECURITY})


class KeyOperation(StrEnum):
    ISSUE = "issue"
    ROTATE = "rotate"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class KeyOperationRequest:
    """What a custodian asks for. ``public_key`` is the new key (issue, rotate); ``key_id`` the old one."""

    operation: KeyOperation
    requested_by: str
    owner: str
    purpose: KeyPurpose
    reason: str
    requested_ns: int
    public_key: bytes = b""
    key_id: str | None = None
    overlap_ns: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "format": "orderguard.key-operation.v1",
            "operation": self.operation.value,
            "requested_by": self.requested_by,
            "owner": self.owner,
            "purpose": self.purpose.value,
            "reason": self.reason,
            "requested_ns": self.requested_ns,
            "public_key": self.public_key.hex(),
            "key_id": self.key_id,
            "overlap_ns": self.overlap_ns,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> KeyOperationRequest:
        key_id = data.get("key_id")
        return cls(
            operation=KeyOperation(str(data["operation"])),
            requested_by=str(data["requested_by"]),
            owner=str(data["owner"]),
            purpose=KeyPurpose(str(data["purpose"])),
            reason=str(data["reason"]),
            requested_ns=int(str(data["requested_ns"])),
            public_key=bytes.fromhex(str(data.get("public_key", ""))),
            key_id=None if key_id is None else str(key_id),
            overlap_ns=int(str(data.get("overlap_ns", 0))),
        )

    def digest(self) -> bytes:
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).digest()


class KeyOperationRefusedError(Exception):
    """Custody refused an operation; ``decision`` says why. The refusal was audited."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(str(decision))
        self.decision = decision


class KeyCustody:
    """Applies approved key operations to a store of public records, auditing each one."""

    def __init__(
        self,
        registry: KeyStore,
        principals: Mapping[str, Principal],
        audit: AuditSink,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._registry = registry
        self._principals = principals
        self._audit = audit
        self._clock = clock

    def bootstrap(self, owner: str, public_key: bytes) -> KeyRecord:
        """Register a custodian's or security officer's approval key while custody has too few to approve."""
        now = self._clock()
        request = KeyOperationRequest(
            KeyOperation.ISSUE, owner, owner, KeyPurpose.APPROVAL, "bootstrap", now, public_key
        )
        principal = self._principals.get(owner)
        admins = [
            r for r in self._active(now) if r.purpose is KeyPurpose.APPROVAL and self._is_admin(r.owner)
        ]
        if principal is None or not principal.roles & _KEY_ADMINS:
            message = f"{owner} is neither key custodian nor security"
            decision = Decision.deny(ReasonCode.NOT_AUTHORIZED, message)
        elif len(admins) >= 2:
            message = "custody is already bootstrapped; request the key and have it approved"
            decision = Decision.deny(ReasonCode.APPROVAL_REQUIRED, message)
        else:
            decision = Decision.allow("bootstrap registration")
        return self._apply(request, decision, (), now, bootstrap=True)

    def execute(self, request: KeyOperationRequest, approvals: Sequence[Approval]) -> KeyRecord:
        """Apply ``request`` if it is well-formed, allowed and approved; else KeyOperationRefusedError."""
        now = self._clock()
        allowed = Decision.allow(f"{request.operation.value} approved")
        decision = self._check(request, approvals, now) or allowed
        return self._apply(request, decision, approvals, now, bootstrap=False)

    # -- checks ------------------------------------------------------------
    def _check(  # noqa: PLR0911 - one return per refusal reason reads best
        self, request: KeyOperationRequest, approvals: Sequence[Approval], now: int
    ) -> Decision | None:
        deny = Decision.deny
        requester = self._principals.get(request.requested_by)
        if requester is None or not requester.has(Role.KEY_CUSTODIAN):
            return deny(ReasonCode.NOT_AUTHORIZED, f"{request.requested_by} is not a key custodian")
        problem = self._check_owner(request)
        if problem is not None:
            return problem
        if request.operation is not KeyOperation.ISSUE:
            old = self._find(request.key_id)
            if old is None:
                message = f"no key {request.key_id} to {request.operation.value}"
                return deny(ReasonCode.NOT_AUTHORIZED, message)
            if (old.owner, old.purpose) != (request.owner, request.purpose):
                message = f"key {old.key_id} is {old.owner}'s {old.purpose.value} key, not as requested"
                return deny(ReasonCode.NOT_AUTHORIZED, message)
        directory = KeyDirectory(self._registry.records())
        approvers = set()
        for approval in approvals:
            problem = self._check_approval(request, approval, directory, now)
            if problem is not None:
                return problem
            approvers.add(approval.approver)
        if not approvers:
            message = "a second key custodian or security officer must approve"
            return deny(ReasonCode.APPROVAL_REQUIRED, message)
        return None

    def _check_owner(self, request: KeyOperationRequest) -> Decision | None:
        owner, purpose = request.owner, request.purpose
        principal = self._principals.get(owner)
        if purpose is KeyPurpose.ORDER_SIGNING:
            if principal is not None and principal.has(Role.KEY_CUSTODIAN):
                message = f"{owner} is a key custodian and may not hold an order-signing key"
                return Decision.deny(ReasonCode.SOD_CONFLICTING_ROLES, message)
            if principal is None and not owner.startswith(DESK_OWNER_PREFIX):
                return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"{owner} is neither a principal nor a desk")
        elif purpose is KeyPurpose.APPROVAL:
            if principal is None:
                message = f"approval keys belong to principals, not {owner}"
                return Decision.deny(ReasonCode.NOT_AUTHORIZED, message)
        elif not owner.startswith(SERVICE_OWNER_PREFIX):
            message = f"{purpose.value} keys belong to a service ('{SERVICE_OWNER_PREFIX}NAME'), not {owner}"
            return Decision.deny(ReasonCode.NOT_AUTHORIZED, message)
        return None

    def _check_approval(  # noqa: PLR0911 - one return per refusal reason reads best
        self, request: KeyOperationRequest, approval: Approval, directory: KeyDirectory, now: int
    ) -> Decision | None:
        deny = Decision.deny
        if approval.digest != request.digest():
            return deny(ReasonCode.APPROVAL_STALE, f"{approval.approver} approved another key operation")
        if approval.approver == request.requested_by:
            return deny(ReasonCode.SOD_SELF_APPROVAL, f"{approval.approver} cannot approve their own request")
        if not self._is_admin(approval.approver):
            message = f"{approval.approver} is neither key custodian nor security"
            return deny(ReasonCode.APPROVAL_NOT_ELIGIBLE, message)
        key = directory.usable(approval.key_id, KeyPurpose.APPROVAL, now, now)
        if isinstance(key, Decision):
            return key
        if key.record.owner != approval.approver:
            return deny(ReasonCode.SIGNATURE_INVALID, f"key {approval.key_id} is not {approval.approver}'s")
        if not verify(key.public, approval.signature, Context.KEY_OPERATION_APPROVAL, approval.digest):
            message = f"the approval signature of {approval.approver} is invalid"
            return deny(ReasonCode.SIGNATURE_INVALID, message)
        return None

    def _is_admin(self, principal_id: str) -> bool:
        principal = self._principals.get(principal_id)
        return principal is not None and bool(principal.roles & _KEY_ADMINS)

    def _find(self, key_id: str | None) -> KeyRecord | None:
        return next((r for r in self._registry.records() if r.key_id == key_id), None)

    def _active(self, now: int) -> list[KeyRecord]:
        return [
            r
            for r in self._registry.records()
            if r.revoked_ns is None and (r.not_after_ns is None or r.not_after_ns > now)
        ]

    # -- effects -----------------------------------------------------------
    def _apply(
        self,
        request: KeyOperationRequest,
        decision: Decision,
        approvals: Sequence[Approval],
        now: int,
        *,
        bootstrap: bool,
    ) -> KeyRecord:
        record: KeyRecord | None = None
        if decision.allowed:
            record, decision = self._effect(request, now)
        action = {
            KeyOperation.ISSUE: AuditAction.CREATED,
            KeyOperation.ROTATE: AuditAction.KEY_ROTATED,
            KeyOperation.REVOKE: AuditAction.KEY_REVOKED,
        }[request.operation]
        after: dict[str, object] = {
            "request": request.to_json(),
            "approvers": [a.approver for a in approvals],
            "bootstrap": bootstrap,
            "message": decision.message,
        }
        if record is not None:
            after["key"] = record.to_json()
        self._audit.append(
            AuditEntry(
                kind="key",
                action=action if decision.allowed else AuditAction.REFUSED,
                object_id=record.key_id if record is not None else (request.key_id or request.owner),
                actor=request.requested_by,
                ts=now,
                after=after,
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
            )
        )
        if record is None:
            raise KeyOperationRefusedError(decision)
        return record

    def _effect(self, request: KeyOperationRequest, now: int) -> tuple[KeyRecord | None, Decision]:
        if request.operation is KeyOperation.REVOKE:
            assert request.key_id is not None
            return self._registry.revoke(request.key_id, now, request.reason), Decision.allow("revoked")
        try:
            key_id = key_id_for(request.public_key)
            record = KeyRecord(
                key_id, request.owner, request.purpose, request.public_key, now, replaces=request.key_id
            )
            KeyDirectory([record])  # refuses a public key of the wrong length or algorithm
        except ValueError as exc:
            return None, Decision.deny(ReasonCode.NOT_AUTHORIZED, f"unusable public key: {exc}")
        if self._find(key_id) is not None:
            return None, Decision.deny(ReasonCode.NOT_AUTHORIZED, f"key {key_id} is already registered")
        self._registry.put(record)
        if request.operation is KeyOperation.ROTATE:
            old = self._find(request.key_id)
            assert old is not None
            closed = replace(old, not_after_ns=now + max(request.overlap_ns, 0))
            self._registry.update(closed)
        return record, Decision.allow(f"{request.operation.value}d key {key_id}")
