"""The venue allowlist. Orders to other venues are blocked and alerted; changing it needs approval.

An admin re-pointing routes is one of the insider threats, so a change is a VENUE_CHANGE
approval request that an eligible approver (compliance or security) must approve first. Applied
changes are journalled (``VenueJournal``) and replayed over the firm file's list at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import ApprovalRequest, SensitiveAction
from orderguard.domain import AuditAction, AuditEntry, Decision, ReasonCode, Role
from orderguard.gateway.venue_journal import InMemoryVenueJournal, VenueChange, VenueJournal

PROPOSER_ROLES: Final = frozenset({Role.ADMIN, Role.COMPLIANCE, Role.SECURITY})


class VenueAllowlist:
    """The approved venues; membership is a set lookup on the hot path."""

    def __init__(self, approved: Iterable[str], *, journal: VenueJournal | None = None) -> None:
        self._approved = set(approved)
        self.journal: VenueJournal = journal if journal is not None else InMemoryVenueJournal()
        for change in self.journal.changes():
            self._set(change.venue, change.approved)

    def __contains__(self, venue: object) -> bool:
        return venue in self._approved

    def approved(self) -> frozenset[str]:
        return frozenset(self._approved)

    def propose(
        self, engine: ApprovalEngine, actor: str, venue: str, approve: bool, now: int
    ) -> tuple[Decision, ApprovalRequest | None]:
        """Ask to add (``approve``) or remove a venue; opens a VENUE_CHANGE approval request."""
        principal = engine.directory.get(actor)
        if principal is None or not principal.roles & PROPOSER_ROLES:
            refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"{actor} may not propose venue changes")
            engine.audit.append(
                AuditEntry(
                    kind="venue",
                    action=AuditAction.REFUSED,
                    object_id=venue,
                    actor=actor,
                    ts=now,
                    decision="deny",
                    reason_code=refusal.reason.value,
                )
            )
            return refusal, None
        return engine.open(
            SensitiveAction.VENUE_CHANGE, venue, actor, {"venue": venue, "approved": approve}, now
        )

    def apply(
        self, engine: ApprovalEngine, request_id: str, *, actor: str, venue: str, approve: bool, now: int
    ) -> Decision:
        """Apply an approved change to exactly this venue and direction."""
        content = {"venue": venue, "approved": approve}
        decision = engine.execute(
            request_id, SensitiveAction.VENUE_CHANGE, venue, content, actor=actor, now=now
        )
        if decision.allowed:
            engine.audit.append(
                AuditEntry(
                    kind="venue",
                    action=AuditAction.MODIFIED,
                    object_id=venue,
                    actor=actor,
                    ts=now,
                    before={"approved": venue in self._approved},
                    after={"approved": approve},
                    decision="allow",
                    reason_code=ReasonCode.ALLOWED.value,
                )
            )
            self.journal.append(VenueChange(venue, approve, actor, now, request_id))
            self._set(venue, approve)
        return decision

    def _set(self, venue: str, approve: bool) -> None:
        if approve:
            self._approved.add(venue)
        else:
            self._approved.discard(venue)
