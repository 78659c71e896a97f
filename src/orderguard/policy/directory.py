"""The role directory: who holds which roles right now, with static SoD enforced on every change.

Starts from the firm file; role grants (approved through the approval engine) and suspensions
change it at run time. Every change re-checks the conflict sets and reloads the authorizer's
entities, so Cedar always decides on the current roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from orderguard.domain import Decision, Principal, ReasonCode, Role
from orderguard.policy.authorizer import CedarAuthorizer
from orderguard.policy.sod import ConflictSet, violations


class RoleDirectory:
    """Principals by id, kept in step with a Cedar authorizer."""

    def __init__(
        self,
        principals: Iterable[Principal],
        conflicts: Sequence[ConflictSet],
        authorizer: CedarAuthorizer | None = None,
    ) -> None:
        self._principals = {p.id: p for p in principals}
        self.conflicts = tuple(conflicts)
        self.suspended: set[str] = set()
        self.authorizer = authorizer
        self._conflicted: dict[str, Decision] = {}
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

    def grant(self, principal_id: str, role: Role) -> Decision:
        """Apply an approved grant; re-checks SoD because roles may have changed since approval."""
        decision = self.check_grant(principal_id, role)
        if decision.allowed:
            principal = self._principals[principal_id]
            self._principals[principal_id] = replace(principal, roles=principal.roles | {role})
            self._refresh()
        return decision

    def revoke(self, principal_id: str, role: Role) -> None:
        principal = self._principals[principal_id]
        self._principals[principal_id] = replace(principal, roles=principal.roles - {role})
        self._refresh()

    def suspend(self, principal_id: str) -> None:
        self.suspended.add(principal_id)
        self._refresh()

    def reinstate(self, principal_id: str) -> None:
        self.suspended.discard(principal_id)
        self._refresh()

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
