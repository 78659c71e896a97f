"""The execution connector: the last gate before a venue.

For each envelope: verify everything (``verify.EnvelopeVerifier``), claim the
order id and nonce in the replay cache, append the verdict to the audit log
(durable before anything executes), hand accepted orders to the venue
adapter, and seal a drop copy of every order it could open to surveillance.
Every acceptance and every refusal is audited with its reason code.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Event, ReasonCode
from orderguard.execution.dropcopy import DropCopy, seal_drop_copy
from orderguard.execution.replay import ReplayCache
from orderguard.execution.venue import VenueAdapter
from orderguard.execution.verify import EnvelopeVerifier, Verification


@dataclass(frozen=True, slots=True)
class ConnectorResult:
    """The connector's answer for one envelope; ``digest`` is set only once the envelope opened."""

    decision: Decision
    digest: bytes | None
    order_id: str | None
    audit_index: int
    executions: tuple[Event, ...] = ()
    drop_copy: DropCopy | None = None

    @property
    def accepted(self) -> bool:
        return self.decision.allowed


@dataclass(frozen=True, slots=True)
class DropCopyRecipient:
    key_id: str
    public: X25519PublicKey


class ExecutionConnector:
    """Verifies, audits and forwards envelopes for one connector identity."""

    def __init__(
        self,
        connector_id: str,
        *,
        verifier: EnvelopeVerifier,
        replay: ReplayCache,
        audit: AuditSink,
        venue: VenueAdapter,
        surveillance: DropCopyRecipient | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.connector_id = connector_id
        self._verifier = verifier
        self._replay = replay
        self._audit = audit
        self._venue = venue
        self._surveillance = surveillance
        self._clock = clock

    def handle(self, envelope: bytes) -> ConnectorResult:
        now = self._clock()
        verification = self._verifier.verify(envelope, now)
        decision = verification.decision
        intent = verification.intent
        if decision.allowed:
            assert intent is not None
            assert verification.digest is not None
            claimed = self._replay.claim(
                intent.order_id, intent.nonce, verification.digest, intent.expires_ns, now
            )
            if not claimed:
                message = f"order {intent.order_id} (or its nonce) was already accepted"
                decision = Decision.deny(ReasonCode.REPLAYED, message)
        index = self._audit.append(self._audit_entry(envelope, verification, decision, now))
        drop_copy = self._drop_copy(verification, decision, now)  # before the venue: kept even if it fails
        executions = self._venue.submit(intent, now) if decision.allowed and intent is not None else ()
        return ConnectorResult(
            decision,
            verification.digest if intent is not None else None,
            intent.order_id if intent is not None else None,
            index,
            executions,
            drop_copy,
        )

    def _audit_entry(
        self, envelope: bytes, verification: Verification, decision: Decision, now: int
    ) -> AuditEntry:
        # Only identifiers go to the log: the order itself stays sealed (drop copy, review desk).
        # The digest names the entry only once the envelope opened and matched it; before that it
        # is an unauthenticated claim, kept aside so nobody can file refusals under a real order.
        after: dict[str, object] = {"message": decision.message}
        if verification.intent is not None and verification.digest is not None:
            object_id = verification.digest.hex()
            after["order_id"] = verification.intent.order_id
            after["originator_key_id"] = verification.originator_key_id
        else:
            object_id = "envelope-sha256:" + hashlib.sha256(envelope).hexdigest()
            if verification.digest is not None:
                after["claimed_digest"] = verification.digest.hex()
        return AuditEntry(
            kind="order",
            action=AuditAction.EXECUTED if decision.allowed else AuditAction.REFUSED,
            object_id=object_id,
            actor=self.connector_id,
            ts=now,
            after=after,
            decision="allow" if decision.allowed else "deny",
            reason_code=decision.reason.value,
            policy_ids=decision.policy_ids,
        )

    def _drop_copy(self, verification: Verification, decision: Decision, now: int) -> DropCopy | None:
        recipient = self._surveillance
        if recipient is None or verification.canonical is None or verification.digest is None:
            return None
        return seal_drop_copy(
            canonical=verification.canonical,
            digest=verification.digest,
            originator_key_id=verification.originator_key_id or "",
            signature=verification.signature or b"",
            outcome=decision.reason,
            connector_id=self.connector_id,
            decided_ns=now,
            recipient_key_id=recipient.key_id,
            recipient=recipient.public,
        )
