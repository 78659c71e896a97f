"""Compliance review: opening a sealed drop copy for an investigation, only with a second officer's approval.

A compliance officer signs a ``ReviewRequest`` naming one order digest, the
case and a short validity window; a *different* compliance officer approves
it by signing the request's digest. The review desk, which runs inside the
surveillance service next to the only private key that opens drop copies,
checks both signatures, audits the opening (durably, before returning the
order) and audits every refusal. There is no other path to the plaintext.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Principal, ReasonCode, Role
from orderguard.execution.dropcopy import DropCopy, DropCopyContents, open_drop_copy
from orderguard.execution.envelope import EnvelopeError
from orderguard.execution.keys import KeyDirectory, KeyPurpose
from orderguard.execution.signing import Approval, Context, Signer, sign, verify


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    """A compliance officer asks to read one order for a case; signed with their approval key."""

    requester: str
    key_id: str
    order_digest: bytes
    case_id: str
    reason: str
    requested_ns: int
    expires_ns: int
    signature: bytes = b""

    def digest(self) -> bytes:
        body = {
            "case_id": self.case_id,
            "expires_ns": self.expires_ns,
            "format": "orderguard.review-request.v1",
            "key_id": self.key_id,
            "order_digest": self.order_digest.hex(),
            "reason": self.reason,
            "requested_ns": self.requested_ns,
            "requester": self.requester,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).digest()

    def signed(self, key: Signer) -> ReviewRequest:
        signature = sign(key, Context.REVIEW_REQUEST, self.digest())
        return ReviewRequest(
            self.requester,
            self.key_id,
            self.order_digest,
            self.case_id,
            self.reason,
            self.requested_ns,
            self.expires_ns,
            signature,
        )


class ReviewRefusedError(Exception):
    """The review desk refused to open an order; ``decision`` says why (and it was audited)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(str(decision))
        self.decision = decision


class ComplianceReviewDesk:
    """Opens drop copies for approved, audited reviews. Holds the surveillance private key(s)."""

    def __init__(
        self,
        surveillance_keys: Mapping[str, X25519PrivateKey],
        directory: KeyDirectory,
        principals: Mapping[str, Principal],
        audit: AuditSink,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._keys = dict(surveillance_keys)
        self._directory = directory
        self._principals = principals
        self._audit = audit
        self._clock = clock

    def open_for_review(self, copy: DropCopy, request: ReviewRequest, approval: Approval) -> DropCopyContents:
        """The order behind ``copy``, if ``request`` is signed and approved; else ReviewRefusedError."""
        now = self._clock()
        contents: DropCopyContents | None = None
        decision = self._check(copy, request, approval, now)
        if decision is None:
            private_key = self._keys.get(copy.recipient_key_id)
            if private_key is None:
                message = f"drop copy is sealed to {copy.recipient_key_id}, which this desk does not hold"
                decision = Decision.deny(ReasonCode.SEAL_INVALID, message)
            else:
                try:
                    contents = open_drop_copy(copy, private_key)
                    message = f"opened for case {request.case_id}, approved by {approval.approver}"
                    decision = Decision.allow(message)
                except EnvelopeError as exc:
                    decision = Decision.deny(ReasonCode.SEAL_INVALID, str(exc))
        self._audit.append(
            AuditEntry(
                kind="order_review",
                action=AuditAction.VIEWED if decision.allowed else AuditAction.REFUSED,
                object_id=copy.digest.hex(),
                actor=request.requester,
                ts=now,
                after={
                    "case_id": request.case_id,
                    "reason": request.reason,
                    "approver": approval.approver,
                    "message": decision.message,
                },
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
            )
        )
        if contents is None:
            raise ReviewRefusedError(decision)
        return contents

    def _check(  # noqa: PLR0911 - one return per refusal reason reads best
        self, copy: DropCopy, request: ReviewRequest, approval: Approval, now: int
    ) -> Decision | None:
        deny = Decision.deny
        if request.order_digest != copy.digest:
            return deny(ReasonCode.NOT_AUTHORIZED, "the review request names another order")
        if not request.requested_ns <= now < request.expires_ns:
            return deny(ReasonCode.APPROVAL_EXPIRED, "the review request is outside its validity window")
        requester = self._principals.get(request.requester)
        if requester is None or not requester.has(Role.COMPLIANCE):
            return deny(ReasonCode.NOT_AUTHORIZED, f"{request.requester} is not a compliance officer")
        signed = (Context.REVIEW_REQUEST, request.digest())
        problem = self._check_signature(request.requester, request.key_id, request.signature, signed, now)
        if problem is not None:
            return problem
        if approval.digest != request.digest():
            return deny(ReasonCode.APPROVAL_STALE, f"{approval.approver} approved another review request")
        approver = self._principals.get(approval.approver)
        if approver is None or not approver.has(Role.COMPLIANCE):
            return deny(ReasonCode.APPROVAL_NOT_ELIGIBLE, f"{approval.approver} is not a compliance officer")
        if approval.approver == request.requester:
            return deny(ReasonCode.SOD_SELF_APPROVAL, f"{approval.approver} cannot approve their own review")
        signed = (Context.REVIEW_APPROVAL, approval.digest)
        return self._check_signature(approval.approver, approval.key_id, approval.signature, signed, now)

    def _check_signature(
        self, who: str, key_id: str, signature: bytes, signed: tuple[Context, bytes], now: int
    ) -> Decision | None:
        context, digest = signed
        key = self._directory.usable(key_id, KeyPurpose.APPROVAL, now, now)
        if isinstance(key, Decision):
            return key
        if key.record.owner != who:
            return Decision.deny(ReasonCode.SIGNATURE_INVALID, f"key {key_id} does not belong to {who}")
        if not verify(key.public, signature, context, digest):
            return Decision.deny(ReasonCode.SIGNATURE_INVALID, f"the signature of {who} is invalid")
        return None
