"""The role directory: who holds which roles right now, with static SoD enforced on every change.

Starts from the firm file, then replays the role journal (grants, revocations, suspensions and
reinstatements made at run time), so a restart keeps them. Every change is appended to the
journal before it takes effect, re-checks the conflict sets and reloads the authorizer's
entities, so Cedar always decides on the current roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from orderguard.domain import Decision, Principal, ReasonCode, Role
from orderguard.policy.authorizer import CedarAuthorizer
from orderguard.policy.role_journal import InMemoryRoleJournal, RoleChange, RoleChangeKind, RoleJournal
from orderguard.policy.sod import ConflictSet, violations


class RoleDirectory:
    """Principals by id, kept in step with a Cedar authorizer."""

    def __init__(
        self,
        principals: Iterable[Principal],
        conflicts: Sequence[ConflictSet],
        authorizer: CedarAuthorizer | None = None,
        *,
        journal: RoleJournal | None = None,
    ) -> None:
        self._principals = {p.id: p for p in principals}
        self.conflicts = tuple(conflicts)
        self.suspended: set[str] = set()
        self.authorizer = authorizer
        self.journal: RoleJournal = journal if journal is not None else InMemoryRoleJournal()
        self._conflicted: dict[str, Decision] = {}
        for change in self.journal.changes():
            self._apply(change)
        self._refresh()

    def get(self, principal_id: str) -> Principal | None:
        return self._principals.get(principal_id)

    def all(self) -> list[Principal]:
        return list(self._principals.values())

    def holders(self, roles: Iterable[Role]) -> list[Principal]:
        """Everybody holding at least one of ``roles``."""
        wanted = frozenset(roles)
        return [p for p in self._principals.values() if p.roles & wanted]

    def sod_decision(self, principal_id: str) -> Decision | None:
        """A refusal if the principal currently holds conflicting roles, else None (cached)."""
        return self._conflicted.get(principal_id)

    def check_grant(self, principal_id: str, role: Role) -> Decision:
        """Would granting ``role`` break a conflict set? Refused with SOD_CONFLICTING_ROLES if so."""
        principal = self._principals.get(principal_id)
        if principal is None:
            return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"unknown principal {principal_id!r}")
        broken = violations(principal.roles | {role}, self.conflicts)
        if broken:
            names = "; ".join(f"{c.describe()}: {c.why}" for c, _ in broken)
            return Decision.deny(
                ReasonCode.SOD_CONFLICTING_ROLES,
                f"granting {role.value} to {principal_id} would break separation of duties: {names}",
                tuple(c.name for c, _ in broken),
            )
        return Decision.allow(f"{role.value} does not conflict with {principal_id}'s roles")

    def grant(
        self, principal_id: str, role: Role, *, actor: str = "", ts: int = 0, request_id: str | None = None
    ) -> Decision:
        """Apply an approved grant; re-checks SoD because roles may have changed since approval."""
        decision = self.check_grant(principal_id, role)
        if decision.allowed:
            self._change(RoleChange(principal_id, RoleChangeKind.GRANT, role, actor, ts, request_id))
        return decision

    def revoke(
        self, principal_id: str, role: Role, *, actor: str = "", ts: int = 0, request_id: str | None = None
    ) -> None:
        if principal_id not in self._principals:
            raise KeyError(principal_id)
        self._change(RoleChange(principal_id, RoleChangeKind.REVOKE, role, actor, ts, request_id))

    def suspend(self, principal_id: str, *, actor: str = "", ts: int = 0) -> None:
        self._change(RoleChange(principal_id, RoleChangeKind.SUSPEND, None, actor, ts))

    def reinstate(self, principal_id: str, *, actor: str = "", ts: int = 0) -> None:
        self._change(RoleChange(principal_id, RoleChangeKind.REINSTATE, None, actor, ts))

    def _change(self, change: RoleChange) -> None:
        """Journal first (durable), then apply: a crash never leaves a change applied but unrecorded."""
        self.journal.append(change)
        self._apply(change)
        self._refresh()

    def _apply(self, change: RoleChange) -> None:
        """Apply one journalled change; principals no longer in the firm file are skipped."""
        principal = self._principals.get(change.principal)
        if principal is None:
            return
        kind = change.change
        if kind is RoleChangeKind.GRANT and change.role is not None:
            self._principals[principal.id] = replace(principal, roles=principal.roles | {change.role})
        elif kind is RoleChangeKind.REVOKE and change.role is not None:
            self._principals[principal.id] = replace(principal, roles=principal.roles - {change.role})
        elif kind is RoleChangeKind.SUSPEND:
            self.suspended.add(principal.id)
        elif kind is RoleChangeKind.REINSTATE:
            self.suspended.discard(principal.id)

    def _refresh(self) -> None:
        self._conflicted = {}
        for p in self._principals.values():
            broken = violations(p.roles, self.conflicts)
            if broken:
                names = ", ".join(c.name for c, _ in broken)
                self._conflicted[p.id] = Decision.deny(
                    ReasonCode.SOD_CONFLICTING_ROLES,
                    f"{p.id} holds conflicting roles ({names}); no action until one is revoked",
                    tuple(c.name for c, _ in broken),
                )
        if self.authorizer is not None:
            self.authorizer.load_principals(self._principals.values(), frozenset(self.suspended))
