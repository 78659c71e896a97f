"""Decisions: what a control says about an action, with a stable reason code."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReasonCode(StrEnum):
    """Stable codes other programs may match on. Never renumber or reuse one."""

    ALLOWED = "ALLOWED"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    SOD_SELF_APPROVAL = "SOD_SELF_APPROVAL"
    SOD_CONFLICTING_ROLES = "SOD_CONFLICTING_ROLES"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    APPROVAL_DUPLICATE_APPROVER = "APPROVAL_DUPLICATE_APPROVER"
    APPROVAL_STALE = "APPROVAL_STALE"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    APPROVAL_NOT_ELIGIBLE = "APPROVAL_NOT_ELIGIBLE"
    APPROVAL_REJECTED = "APPROVAL_REJECTED"
    APPROVAL_REPLAYED = "APPROVAL_REPLAYED"
    BREAK_GLASS_NO_REASON = "BREAK_GLASS_NO_REASON"
    VENUE_NOT_APPROVED = "VENUE_NOT_APPROVED"
    RESTRICTED_SYMBOL = "RESTRICTED_SYMBOL"
    PRECLEARANCE_REQUIRED = "PRECLEARANCE_REQUIRED"
    PRECLEARANCE_BLACKOUT = "PRECLEARANCE_BLACKOUT"
    HOLDING_PERIOD = "HOLDING_PERIOD"
    PRINCIPAL_SUSPENDED = "PRINCIPAL_SUSPENDED"
    PATTERN_BLOCKED = "PATTERN_BLOCKED"
    DEPLOY_NOT_APPROVED = "DEPLOY_NOT_APPROVED"
    LEGAL_HOLD = "LEGAL_HOLD"
    SEAL_INVALID = "SEAL_INVALID"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    ATTESTATION_MISSING = "ATTESTATION_MISSING"
    REPLAYED = "REPLAYED"
    EXPIRED = "EXPIRED"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_EXPIRED = "KEY_EXPIRED"  # outside its validity window: rotated out, or not yet active
    ATTESTATION_INVALID = "ATTESTATION_INVALID"  # present but forged, for another order, or a refusal
    CASE_CONFLICT_OF_INTEREST = "CASE_CONFLICT_OF_INTEREST"  # investigator is the subject or conflicted
    CONNECTOR_UNAVAILABLE = "CONNECTOR_UNAVAILABLE"  # the connector process is gone or answered garbage
    SIGNER_UNAVAILABLE = "SIGNER_UNAVAILABLE"  # the desk signer process is gone or answered garbage
    SIGNER_LIMIT = "SIGNER_LIMIT"  # the desk signer's own rate or volume limit for the originator


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of a control: allowed or refused, why, and which policies decided."""

    allowed: bool
    reason: ReasonCode
    message: str
    policy_ids: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def allow(cls, message: str = "allowed", policy_ids: tuple[str, ...] = ()) -> Decision:
        return cls(True, ReasonCode.ALLOWED, message, policy_ids)

    @classmethod
    def deny(cls, reason: ReasonCode, message: str, policy_ids: tuple[str, ...] = ()) -> Decision:
        return cls(False, reason, message, policy_ids)

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.message}"
