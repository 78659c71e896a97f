"""The execution connector: the last gate before a venue.

For each envelope: verify everything (``verify.EnvelopeVerifier``), claim the
order id and nonce in the replay cache, append the verdict to the audit log
(durable before anything executes), hand accepted orders to the venue
adapter, and seal a drop copy of every order it could open to surveillance.
Every acceptance and every refusal is audited with its reason code.
``handle_many`` does the same for several envelopes with one durable audit
commit for all their verdicts (``append_many`` when the sink has it); it is
``judge_many`` (verify and claim, CPU only) followed by ``execute_judged``
(audit, drop copies, venue), which a caller may run apart, e.g. so that one
batch waits for its commit while the next one is judged. ``execute_audited``
is ``execute_judged`` for verdicts another process already logged (the
connector process: docs/execution.md, "Connector process").
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Event, ReasonCode
from orderguard.execution.dropcopy import DropCopy, drop_copy_session, seal_drop_copy
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
class JudgedBatch:
    """Verdicts reached but not yet audited: nothing of these envelopes has executed."""

    verdicts: list[tuple[Verification, Decision]]
    times: list[int]
    entries: list[AuditEntry]


def append_many_of(audit: AuditSink) -> Callable[[list[AuditEntry]], list[int]]:
    """The sink's ``append_many`` (one durable commit for many entries), else one ``append`` each."""
    append_many: Callable[[list[AuditEntry]], list[int]] | None = getattr(audit, "append_many", None)
    return append_many or (lambda entries: [audit.append(e) for e in entries])


@dataclass(frozen=True, slots=True)
class DropCopyRecipient:
    key_id: str
    public: X25519PublicKey


class ExecutionConnector:
    """Verifies, audits and forwards envelopes for one connector identity; safe to call from threads.

    Drop copies are sealed under short sessions (v2, one X25519 operation per session) unless
    ``drop_copy_sessions`` is False (v1, one per copy).
    """

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
        drop_copy_sessions: bool = True,
    ) -> None:
        self.connector_id = connector_id
        self._verifier = verifier
        self._replay = replay
        self._append_many = append_many_of(audit)
        self._venue = venue
        self._surveillance = surveillance
        self._drop_session = (
            drop_copy_session(surveillance.key_id, surveillance.public)
            if surveillance is not None and drop_copy_sessions
            else None
        )
        self._clock = clock
        self._claim_lock = threading.Lock()  # a replay claim is check-then-record: one at a time

    def handle(self, envelope: bytes, now_ns: int | None = None) -> ConnectorResult:
        """Verify, claim, audit, then execute one envelope, judged at ``now_ns`` (default: the clock)."""
        return self.handle_many([envelope], None if now_ns is None else [now_ns])[0]

    def handle_many(
        self, envelopes: Sequence[bytes], now_ns: Sequence[int] | None = None
    ) -> list[ConnectorResult]:
        """``handle`` for several envelopes: every verdict is durable (one commit) before any order leaves."""
        return self.execute_judged(self.judge_many(envelopes, now_ns))

    def judge_many(self, envelopes: Sequence[bytes], now_ns: Sequence[int] | None = None) -> JudgedBatch:
        """Verify each envelope and claim the accepted ones in the replay cache; nothing is sent yet.

        A claimed order that is never passed to ``execute_judged`` is lost, never sent twice.
        """
        times = list(now_ns) if now_ns is not None else [self._clock()] * len(envelopes)
        if len(times) != len(envelopes):
            raise ValueError(f"{len(envelopes)} envelopes but {len(times)} times")
        verdicts = [self._judge(envelope, now) for envelope, now in zip(envelopes, times, strict=True)]
        entries = [
            self._audit_entry(envelope, verification, decision, now)
            for envelope, (verification, decision), now in zip(envelopes, verdicts, times, strict=True)
        ]
        return JudgedBatch(verdicts, times, entries)

    def execute_judged(self, judged: JudgedBatch) -> list[ConnectorResult]:
        """Audit the verdicts (one durable commit), then seal the drop copies and send the accepted orders."""
        return self.execute_audited(judged, self._append_many(judged.entries))

    def execute_audited(self, judged: JudgedBatch, indexes: Sequence[int]) -> list[ConnectorResult]:
        """Seal the drop copies and send the accepted orders of verdicts already durable at ``indexes``.

        For a connector whose audit log is elsewhere (the connector process: the API process's
        log sequences the entries and answers with their indexes).
        """
        if len(indexes) != len(judged.entries):
            raise ValueError(f"{len(indexes)} audit indexes for {len(judged.entries)} verdicts")
        results = []
        for (verification, decision), now, index in zip(judged.verdicts, judged.times, indexes, strict=True):
            intent = verification.intent
            # The drop copy comes before the venue: it is kept even if the venue fails.
            drop_copy = self._drop_copy(verification, decision, now)
            executions = self._venue.submit(intent, now) if decision.allowed and intent is not None else ()
            results.append(
                ConnectorResult(
                    decision,
                    verification.digest if intent is not None else None,
                    intent.order_id if intent is not None else None,
                    index,
                    executions,
                    drop_copy,
                )
            )
        return results

    def _judge(self, envelope: bytes, now: int) -> tuple[Verification, Decision]:
        """The verification and the final decision (a verified order already seen is a replay)."""
        verification = self._verifier.verify(envelope, now)
        decision = verification.decision
        intent = verification.intent
        if decision.allowed:
            assert intent is not None
            assert verification.digest is not None
            with self._claim_lock:
                claimed = self._replay.claim(
                    intent.order_id, intent.nonce, verification.digest, intent.expires_ns, now
                )
            if not claimed:
                message = f"order {intent.order_id} (or its nonce) was already accepted"
                decision = Decision.deny(ReasonCode.REPLAYED, message)
        return verification, decision

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
            session=self._drop_session,
        )
