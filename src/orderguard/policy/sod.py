"""Static separation of duties (ANSI RBAC style): conflict sets of roles with a cardinality.

A conflict set ``{r1, r2, ...}`` with cardinality ``n`` says nobody may hold ``n`` or more
of its roles at once. The defaults encode the seed conflicts that can be expressed as roles;
"handles client orders vs trades personally" is enforced dynamically by pre-clearance
(see docs/controls.md), because every employee may own a personal account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orderguard.domain import Principal, Role


@dataclass(frozen=True, slots=True)
class ConflictSet:
    """Nobody may hold ``cardinality`` or more of ``roles`` at the same time."""

    name: str
    roles: frozenset[Role]
    cardinality: int = 2
    why: str = ""

    def violated_by(self, roles: Iterable[Role]) -> frozenset[Role]:
        """The conflicting roles held, or an empty set when the constraint holds."""
        held = self.roles.intersection(roles)
        return frozenset(held) if len(held) >= self.cardinality else frozenset()

    def describe(self) -> str:
        names = " + ".join(sorted(r.value for r in self.roles))
        return f"{self.name} ({names}, at most {self.cardinality - 1})"


DEFAULT_CONFLICTS: tuple[ConflictSet, ...] = (
    ConflictSet(
        "withdrawal-initiate-approve",
        frozenset({Role.WITHDRAWAL_INITIATOR, Role.WITHDRAWAL_APPROVER}),
        why="nobody may both initiate and approve a withdrawal",
    ),
    ConflictSet(
        "write-code-deploy",
        frozenset({Role.DEVELOPER, Role.DEPLOYER}),
        why="nobody may both write trading code and deploy it",
    ),
    ConflictSet(
        "keys-submit-orders",
        frozenset({Role.KEY_CUSTODIAN, Role.TRADER}),
        why="nobody may both manage signing keys and submit orders",
    ),
    ConflictSet(
        "enter-approve-orders",
        frozenset({Role.TRADER, Role.ORDER_APPROVER}),
        why="nobody may both enter client orders and approve large ones",
    ),
)


def conflict_sets(configured: Sequence[Sequence[Role]] = ()) -> tuple[ConflictSet, ...]:
    """The defaults plus the firm's ``controls.sod_conflicts`` (each a role set, cardinality 2)."""
    extra = tuple(
        ConflictSet(f"configured-{i}", frozenset(roles), why="configured in controls.sod_conflicts")
        for i, roles in enumerate(configured)
    )
    return DEFAULT_CONFLICTS + extra


def violations(
    roles: Iterable[Role], conflicts: Sequence[ConflictSet]
) -> list[tuple[ConflictSet, frozenset[Role]]]:
    """Every conflict set the role set breaks, with the offending roles."""
    held = frozenset(roles)
    found = []
    for conflict in conflicts:
        offending = conflict.violated_by(held)
        if offending:
            found.append((conflict, offending))
    return found


def principal_violations(
    principals: Iterable[tuple[str, Principal]], conflicts: Sequence[ConflictSet]
) -> list[str]:
    """One readable line per (key path, principal) and broken conflict set; empty when the firm is clean."""
    lines = []
    for where, principal in principals:
        for conflict, offending in violations(principal.roles, conflicts):
            held = ", ".join(sorted(r.value for r in offending))
            lines.append(
                f"{where}: principal {principal.id!r} holds conflicting roles {held}: separation-of-duties "
                f"conflict {conflict.describe()} ({conflict.why}); remove one of the roles"
            )
    return lines
