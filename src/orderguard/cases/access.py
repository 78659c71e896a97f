"""Protecting the accused: who may read or work alerts and cases, and who may investigate whom.

Only principals holding the compliance or security role may read or change alerts and cases.
The subject of a case may neither see nor change it, even when they hold one of those roles.
An investigator is conflicted with a subject when they sit on the same desk or either lists
the other in ``conflicted_with`` in the firm file. Every read is audited (VIEWED) and every
refusal is audited (REFUSED) before the caller hears of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from orderguard.cases.model import AccessDeniedError
from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, ReasonCode, Role

INVESTIGATOR_ROLES = frozenset({Role.COMPLIANCE, Role.SECURITY})
T = TypeVar("T")


def change_entry(
    kind: str,
    action: AuditAction,
    object_id: str,
    actor: str,
    ts: int,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> AuditEntry:
    """The audit entry of an allowed change to an alert or a case (access was checked before)."""
    return AuditEntry(
        kind=kind,
        action=action,
        object_id=object_id,
        actor=actor,
        ts=ts,
        before=before,
        after=after,
        decision="allow",
        reason_code=ReasonCode.ALLOWED.value,
    )


class CaseAccess:
    """Decides and audits access to alerts and cases."""

    def __init__(self, config: FirmConfig, audit: AuditSink, clock: Callable[[], int]) -> None:
        self.config = config
        self.audit = audit
        self.clock = clock
        self._conflicts: dict[str, set[str]] = {}
        for p in config.principals:
            for other in p.conflicted_with:
                self._conflicts.setdefault(p.id, set()).add(other)
                self._conflicts.setdefault(other, set()).add(p.id)

    def decide(self, actor: str, subject: str | None) -> Decision:
        """May ``actor`` read or work on alerts and cases about ``subject`` (None: a listing)?"""
        principal = self.config.principal(actor)
        if principal is None or not (principal.roles & INVESTIGATOR_ROLES):
            return Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"{actor} holds neither the compliance nor the security role"
            )
        if subject is not None and subject == actor:
            return Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"{actor} is the subject of this case and may not see or change it"
            )
        return Decision.allow(f"{actor} is an investigator")

    def conflict(self, investigator: str, subject: str) -> Decision:
        """May ``investigator`` be assigned a case about ``subject``?"""
        access = self.decide(investigator, None)
        if not access.allowed:
            return access
        if investigator == subject:
            return Decision.deny(
                ReasonCode.CASE_CONFLICT_OF_INTEREST, f"{investigator} is the subject and cannot investigate"
            )
        who, whom = self.config.principal(investigator), self.config.principal(subject)
        if who is not None and whom is not None and who.desk is not None and who.desk == whom.desk:
            return Decision.deny(
                ReasonCode.CASE_CONFLICT_OF_INTEREST,
                f"{investigator} sits on the {who.desk} desk with {subject}; assign someone independent",
            )
        if subject in self._conflicts.get(investigator, set()):
            return Decision.deny(
                ReasonCode.CASE_CONFLICT_OF_INTEREST,
                f"{investigator} is listed as conflicted with {subject} (conflicted_with in the firm file)",
            )
        return Decision.allow(f"{investigator} may investigate {subject}")

    def require(
        self,
        actor: str,
        *,
        kind: str,
        object_id: str,
        subject: str | None,
        read: bool,
        detail: dict[str, object] | None = None,
    ) -> int | None:
        """Allow or raise ``AccessDeniedError``; a read is audited as VIEWED, a refusal as REFUSED.

        Returns the audit index of the VIEWED entry for a read, None for an allowed change (the
        change itself is audited by the caller).
        """
        decision = self.decide(actor, subject)
        if not decision.allowed:
            raise AccessDeniedError(
                decision, self.record(actor, kind, object_id, AuditAction.REFUSED, decision)
            )
        if read:
            return self.record(actor, kind, object_id, AuditAction.VIEWED, decision, detail=detail)
        return None

    def listing(
        self,
        actor: str,
        *,
        kind: str,
        object_id: str,
        load: Callable[[], list[T]],
        detail: Callable[[list[T]], dict[str, object]],
    ) -> list[T]:
        """What ``load`` lists, for an investigator: refused (and audited) before anything is read,
        else audited as VIEWED with ``detail`` of exactly what was listed."""
        self.require(actor, kind=kind, object_id=object_id, subject=None, read=False)
        found = load()
        allowed = self.decide(actor, None)
        self.record(actor, kind, object_id, AuditAction.VIEWED, allowed, detail=detail(found))
        return found

    def refuse(self, actor: str, kind: str, object_id: str, decision: Decision) -> AccessDeniedError:
        """Audit ``decision`` as a refusal and return the error to raise."""
        return AccessDeniedError(decision, self.record(actor, kind, object_id, AuditAction.REFUSED, decision))

    def record(
        self,
        actor: str,
        kind: str,
        object_id: str,
        action: AuditAction,
        decision: Decision,
        *,
        detail: dict[str, object] | None = None,
    ) -> int:
        return self.audit.append(
            AuditEntry(
                kind=kind,
                action=action,
                object_id=object_id,
                actor=actor,
                ts=self.clock(),
                after=detail,
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )
