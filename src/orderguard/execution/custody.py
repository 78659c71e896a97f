"""Key custody: issuing, rotating and revoking keys, each gated by a second person's approval.

A key custodian requests an operation; another key custodian or a security
officer approves it by signing the request digest. Private keys never pass
through custody: the holder generates its key pair where it will be used and
custody registers the public key. Two separation-of-duties rules hold:
a principal who holds ``key_custodian`` is never issued an order-signing key
(the connector also refuses orders from such a principal), and nobody
approves their own request. Every operation, done or refused, is audited.

Listeners (``on_change``, e.g. ``ExecutionPath.apply_key_records``) learn of a revocation before
it is audited as done: a running connector process refuses the key from then on. An issue or
rotation widens trust, so it is audited first (``passed_on: "pending"``), then passed on, and the
outcome recorded in a second entry (action ``modified``). A listener that fails is recorded
(``passed_on: "failed: ..."``) and its error raised after it; the registry keeps the change, so a
connector started later loads it.

Bootstrap: while fewer than two custodian/security approval keys exist, the
approval keys of custodians and security officers may be registered without
an approval; such registrations are audited as ``bootstrap``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Principal, ReasonCode, Role
from orderguard.execution.key_requests import KeyOperation, KeyOperationRefusedError, KeyOperationRequest
from orderguard.execution.keys import DESK_OWNER_PREFIX, KeyDirectory, KeyPurpose, KeyRecord, key_id_for
from orderguard.execution.keystore import KeyStore
from orderguard.execution.signing import Approval, Context, verify

SERVICE_OWNER_PREFIX = "service:"  # owner of a component key: "service:connector-1", "service:controls"
_KEY_ADMINS = frozenset({Role.KEY_CUSTODIAN, Role.SECURITY})


class KeyCustody:
    """Applies approved key operations to a store of public records, auditing each one."""

    def __init__(
        self,
        registry: KeyStore,
        principals: Mapping[str, Principal],
        audit: AuditSink,
        clock: Callable[[], int] = time.time_ns,
        *,
        on_change: Sequence[Callable[[Sequence[KeyRecord]], object]] = (),
    ) -> None:
        self._on_change = tuple(on_change)
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
        changed: list[KeyRecord] = []
        if decision.allowed:
            record, decision = self._effect(request, now)
            if record is not None:  # the registry's records as they are now: the new key, the old one
                ids = {record.key_id, request.key_id}
                changed = [r for r in self._registry.records() if r.key_id in ids]
        narrows = request.operation is KeyOperation.REVOKE or not self._on_change  # (nobody to tell)
        # a revocation is passed on before it is audited (the connector refuses the key at once); a new
        # key widens trust, so it is audited first and its passing on recorded in a second entry
        failure = self._pass_on(changed) if record is not None and narrows else None
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
            after["passed_on"] = _outcome(failure) if narrows else "pending"
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
        if not narrows:
            failure = self._pass_on(changed)
            self._audit_passed_on(request, record, failure, now)
        if failure is not None:
            raise failure
        return record

    def _audit_passed_on(
        self, request: KeyOperationRequest, record: KeyRecord, failure: Exception | None, now: int
    ) -> None:
        """The second entry of an issue or rotation: whether the listeners took the new key."""
        self._audit.append(
            AuditEntry(
                kind="key",
                action=AuditAction.MODIFIED,
                object_id=record.key_id,
                actor=request.requested_by,
                ts=now,
                after={"operation": request.operation.value, "passed_on": _outcome(failure)},
                decision="allow",
                reason_code=ReasonCode.ALLOWED.value,
            )
        )

    def _pass_on(self, changed: Sequence[KeyRecord]) -> Exception | None:
        """Tell every listener of the changed records; the first failure, if any."""
        failure = None
        for listener in self._on_change:
            try:
                listener(changed)
            except Exception as exc:  # noqa: BLE001 - recorded in the audit entry, then raised
                failure = failure or exc
        return failure

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


def _outcome(failure: Exception | None) -> str:
    """What ``passed_on`` records: done, or the first listener's failure."""
    return "done" if failure is None else f"failed: {failure}"
