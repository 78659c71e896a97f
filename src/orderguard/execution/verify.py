"""Everything the connector checks before an order may leave, as pure functions of the envelope.

Order of checks: format, which connector key, HPKE open, digest, originator
signature and key, times, controls attestation, venue allowlist, and, for
large orders, the approval quorum recomputed from the decrypted order. Each
failure is a ``Decision`` with a stable reason code. Replay is stateful and
checked by the connector after these pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.domain import Decision, ReasonCode, Role
from orderguard.execution._lru import VerifiedCache
from orderguard.execution.attestation import Attestation, AttestedOrder
from orderguard.execution.envelope import (
    DIGEST_BYTES,
    Envelope,
    EnvelopeError,
    OpenedEnvelope,
    open_envelope,
    open_session_envelope,
    session_opener,
)
from orderguard.execution.intent import IntentError, OrderIntent, canonical_decimal
from orderguard.execution.keys import DESK_OWNER_PREFIX, KeyDirectory, KeyPurpose, UsableKey
from orderguard.execution.policy import ConnectorPolicy
from orderguard.execution.signing import SIGNATURE_BYTES, Approval, Context, verify


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict on one envelope; ``intent`` and friends are set once the envelope opened."""

    decision: Decision
    digest: bytes | None
    intent: OrderIntent | None = None
    canonical: bytes | None = None
    originator_key_id: str | None = None
    signature: bytes | None = None


@dataclass(frozen=True, slots=True)
class _VerifiedAttestation:
    """An attestation whose signature verified over ``raw``, with its entries by order digest."""

    raw: bytes
    attestation: Attestation
    entries: Mapping[bytes, AttestedOrder]


def _deny(reason: ReasonCode, message: str) -> Decision:
    return Decision.deny(reason, message)


class EnvelopeVerifier:
    """Opens and verifies envelopes for one connector.

    ``connector_keys`` holds the connector's current private key and, during a
    rotation overlap, the previous one. Verified attestations, batch
    signatures and unwrapped session keys (v2 envelopes) are remembered
    (bounded), so a micro-batch costs one signature check, and a session one
    X25519 operation, however many orders it covers.
    """

    def __init__(
        self,
        connector_keys: Mapping[str, X25519PrivateKey],
        directory: KeyDirectory,
        policy: ConnectorPolicy,
        cache_size: int = 4096,
    ) -> None:
        self._connector_keys = dict(connector_keys)
        self._sessions = session_opener(self._connector_keys)
        self._directory = directory
        self._policy = policy
        # Keyed by the signature only (64 bytes to hash, not the whole attestation or batch); a hit
        # also needs every signed byte equal to what was verified, so it still means "these exact
        # bytes were verified". Attestations keep an index of their entries by digest.
        self._verified_attestations: VerifiedCache[_VerifiedAttestation] = VerifiedCache(cache_size)
        self._verified_batches: VerifiedCache[tuple[bytes, str, frozenset[bytes]]] = VerifiedCache(cache_size)

    def verify(self, data: bytes, now_ns: int) -> Verification:
        try:
            envelope = Envelope.from_bytes(data)
        except EnvelopeError as exc:
            return Verification(_deny(ReasonCode.SEAL_INVALID, str(exc)), None)
        digest = envelope.digest
        private_key = self._connector_keys.get(envelope.connector_key_id)
        if private_key is None:
            message = f"envelope is sealed to key {envelope.connector_key_id}, not to this connector"
            return Verification(_deny(ReasonCode.SEAL_INVALID, message), digest)
        sealed_to = self._directory.get(envelope.connector_key_id)
        if sealed_to is not None and sealed_to.revoked_ns is not None and sealed_to.revoked_ns <= now_ns:
            message = (
                f"connector key {sealed_to.key_id} is revoked: whatever was sealed to it may have been read"
            )
            return Verification(_deny(ReasonCode.KEY_REVOKED, message), digest)
        try:
            if envelope.session:
                opened = open_session_envelope(envelope, self._sessions)
            else:
                opened = open_envelope(envelope, private_key)
            intent = OrderIntent.from_canonical(opened.canonical)
        except (EnvelopeError, IntentError) as exc:
            return Verification(_deny(ReasonCode.SEAL_INVALID, str(exc)), digest)
        if hashlib.sha256(opened.canonical).digest() != digest or intent.expires_ns != envelope.expires_ns:
            message = "the clear digest or expiry does not match the sealed order"
            return Verification(_deny(ReasonCode.SEAL_INVALID, message), digest)
        decision = (
            self._check_originator(intent, digest, opened, now_ns)
            or self._check_times(intent, now_ns)
            or self._check_controls(intent, digest, opened.attestation, now_ns)
        )
        return Verification(decision, digest, intent, opened.canonical, opened.key_id, opened.signature)

    def _check_originator(  # noqa: PLR0911 - one return per refusal reason reads best
        self, intent: OrderIntent, digest: bytes, opened: OpenedEnvelope, now_ns: int
    ) -> Decision | None:
        key_id, signature = opened.key_id, opened.signature
        if not signature:
            return _deny(ReasonCode.SIGNATURE_INVALID, f"order {intent.order_id} carries no signature")
        key = self._directory.usable(key_id, KeyPurpose.ORDER_SIGNING, intent.created_ns, now_ns)
        if isinstance(key, Decision):
            return key
        principal = self._policy.principals.get(intent.originator)
        if principal is None:
            return _deny(ReasonCode.NOT_AUTHORIZED, f"originator {intent.originator} is not in the firm file")
        owner = key.record.owner
        desk_key = principal.desk is not None and owner == DESK_OWNER_PREFIX + principal.desk
        if owner != principal.id and not desk_key:
            message = f"key {key_id} belongs to {owner}, who cannot sign for {principal.id}"
            return _deny(ReasonCode.SIGNATURE_INVALID, message)
        if principal.has(Role.KEY_CUSTODIAN):
            message = f"{principal.id} is a key custodian and may not originate orders"
            return _deny(ReasonCode.SOD_CONFLICTING_ROLES, message)
        if not principal.has(Role.TRADER):
            return _deny(ReasonCode.NOT_AUTHORIZED, f"{principal.id} does not hold the trader role")
        if opened.batch:
            signed = digest in self._signed_batch(key, opened)
        else:
            signed = verify(key.public, signature, Context.ORDER, digest)
        if not signed:
            message = f"originator signature on {intent.order_id} is invalid or does not cover it"
            return _deny(ReasonCode.SIGNATURE_INVALID, message)
        return None

    def _signed_batch(self, key: UsableKey, opened: OpenedEnvelope) -> frozenset[bytes]:
        """The digests a valid batch signature covers (empty if the signature is invalid)."""
        batch, key_id = opened.batch, key.record.key_id
        cached = self._verified_batches.get(opened.signature)
        if cached is not None and cached[0] == batch and cached[1] == key_id:
            return cached[2]
        if len(batch) % DIGEST_BYTES or not verify(key.public, opened.signature, Context.ORDER_BATCH, batch):
            return frozenset()
        digests = frozenset(batch[i : i + DIGEST_BYTES] for i in range(0, len(batch), DIGEST_BYTES))
        self._verified_batches.put(opened.signature, (batch, key_id, digests))
        return digests

    def _check_times(self, intent: OrderIntent, now_ns: int) -> Decision | None:
        policy = self._policy
        if now_ns >= intent.expires_ns:
            message = f"order {intent.order_id} expired {now_ns - intent.expires_ns} ns ago"
            return _deny(ReasonCode.EXPIRED, message)
        if intent.created_ns > now_ns + policy.clock_skew_ns:
            return _deny(ReasonCode.EXPIRED, f"order {intent.order_id} is dated in the future")
        if intent.expires_ns - intent.created_ns > policy.max_lifetime_ns:
            message = f"order {intent.order_id} lives longer than the {policy.max_lifetime_ns} ns maximum"
            return _deny(ReasonCode.EXPIRED, message)
        return None

    def _check_controls(  # noqa: PLR0911 - one return per refusal reason reads best
        self, intent: OrderIntent, digest: bytes, raw: bytes, now_ns: int
    ) -> Decision:
        """The attestation, the venue and the quorum; an allow carries the attested policy ids."""
        if not raw:
            message = f"order {intent.order_id} carries no controls attestation"
            return _deny(ReasonCode.ATTESTATION_MISSING, message)
        verified = self._verified_attestation(raw, intent, now_ns)
        if isinstance(verified, Decision):
            return verified
        attestation = verified.attestation
        entry = verified.entries.get(digest)
        if entry is None:
            return _deny(ReasonCode.ATTESTATION_INVALID, "the attestation does not cover this order")
        if not entry.allowed:
            reason = ReasonCode.ATTESTATION_INVALID if entry.reason is ReasonCode.ALLOWED else entry.reason
            return _deny(reason, f"the controls refused order {intent.order_id} ({entry.reason.value})")
        if intent.venue not in self._policy.approved_venues:
            return _deny(ReasonCode.VENUE_NOT_APPROVED, f"venue {intent.venue} is not on the approved list")
        if self._policy.needs_quorum(intent, now_ns):  # a SELL at max(limit, the connector's reference)
            problem = self._check_quorum(intent, digest, entry.approvals, attestation.issued_ns, now_ns)
            if problem is not None:
                return problem
        return Decision.allow("verified at the connector", entry.policy_ids)

    def _verified_attestation(
        self, raw: bytes, intent: OrderIntent, now_ns: int
    ) -> _VerifiedAttestation | Decision:
        """The attestation in ``raw`` if its key and signature check out; the signature check is cached."""
        cache_key = raw[-SIGNATURE_BYTES:]  # the signature, when ``raw`` is well formed
        cached = self._verified_attestations.get(cache_key)
        body = b""
        if cached is not None and cached.raw == raw:
            attestation = cached.attestation
        else:
            cached = None
            try:
                attestation, body = Attestation.decode_signed(raw)
            except ValueError as exc:
                return _deny(ReasonCode.ATTESTATION_INVALID, f"attestation does not parse: {exc}")
        skew = self._policy.clock_skew_ns
        if not intent.created_ns - skew <= attestation.issued_ns <= now_ns + skew:
            message = "attestation was issued outside the order's lifetime"
            return _deny(ReasonCode.ATTESTATION_INVALID, message)
        key = self._directory.usable(
            attestation.controls_key_id, KeyPurpose.ATTESTATION, attestation.issued_ns, now_ns
        )
        if isinstance(key, Decision):  # checked on every use: a revocation applies to cached ones too
            invalid = key.reason is ReasonCode.SIGNATURE_INVALID
            reason = ReasonCode.ATTESTATION_INVALID if invalid else key.reason
            return _deny(reason, f"attestation key: {key.message}")
        if cached is None:
            if not verify(key.public, attestation.signature, Context.ATTESTATION, body):
                return _deny(ReasonCode.ATTESTATION_INVALID, "the attestation signature is invalid")
            # The first entry for a digest wins, as entry_for's scan found it.
            entries: dict[bytes, AttestedOrder] = {}
            for entry in attestation.orders:
                entries.setdefault(entry.digest, entry)
            cached = _VerifiedAttestation(raw, attestation, entries)
            self._verified_attestations.put(cache_key, cached)
        return cached

    def _check_quorum(
        self, intent: OrderIntent, digest: bytes, approvals: tuple[Approval, ...], issued_ns: int, now_ns: int
    ) -> Decision | None:
        approvers: set[str] = set()
        for approval in approvals:
            problem = self._check_approval(intent, digest, approval, issued_ns, now_ns)
            if problem is not None:
                return problem
            if approval.approver in approvers:
                message = f"{approval.approver} approved order {intent.order_id} more than once"
                return _deny(ReasonCode.APPROVAL_DUPLICATE_APPROVER, message)
            approvers.add(approval.approver)
        quorum = self._policy.large_order_quorum
        if len(approvers) < quorum:
            notional, unpriced = self._policy.control_notional(intent, now_ns)
            why = (
                "is a sell above the unpriced quantity cap with no fresh reference price"
                if unpriced
                else f"has notional {canonical_decimal(notional)} above "
                f"{canonical_decimal(self._policy.large_order_notional)}"
            )
            message = (
                f"order {intent.order_id} {why}: needs {quorum} distinct approvers, has {len(approvers)}"
            )
            return _deny(ReasonCode.APPROVAL_REQUIRED, message)
        return None

    def _check_approval(  # noqa: PLR0911 - one return per refusal reason reads best
        self, intent: OrderIntent, digest: bytes, approval: Approval, issued_ns: int, now_ns: int
    ) -> Decision | None:
        who = approval.approver
        if approval.digest != digest:
            return _deny(ReasonCode.APPROVAL_STALE, f"{who} approved another order digest, not this one")
        principal = self._policy.principals.get(who)
        if principal is None or not principal.has(Role.ORDER_APPROVER):
            return _deny(ReasonCode.APPROVAL_NOT_ELIGIBLE, f"{who} does not hold the order_approver role")
        if who == intent.originator:
            return _deny(ReasonCode.SOD_SELF_APPROVAL, f"{who} cannot approve their own order")
        key = self._directory.usable(approval.key_id, KeyPurpose.APPROVAL, issued_ns, now_ns)
        if isinstance(key, Decision):
            return key
        if key.record.owner != who:
            message = f"approval key {approval.key_id} does not belong to {who}"
            return _deny(ReasonCode.SIGNATURE_INVALID, message)
        if not verify(key.public, approval.signature, Context.ORDER_APPROVAL, digest):
            return _deny(ReasonCode.SIGNATURE_INVALID, f"the approval signature of {who} is invalid")
        return None
