"""The journal of run-time role changes, replayed over the firm file when the directory starts.

The firm file is the starting point; every grant, revocation, suspension and reinstatement made
at run time is appended here, so the directory of effective roles survives a restart.
``InMemoryRoleJournal`` serves tests and single-process tools; ``SqlRoleJournal``
(``orderguard.policy.sql_role_journal``) keeps the journal in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from orderguard.domain import Role


class RoleChangeKind(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


@dataclass(frozen=True, slots=True)
class RoleChange:
    """One change to a principal's roles or standing, who made it and under which approval."""

    principal: str
    change: RoleChangeKind
    role: Role | None
    actor: str
    ts: int
    request_id: str | None = None


class RoleJournal(Protocol):
    """Append-only persistence of role changes; ``changes`` returns them in the order appended."""

    def append(self, change: RoleChange) -> None: ...

    def changes(self) -> list[RoleChange]: ...


class InMemoryRoleJournal:
    """Role changes in a list; lost when the process ends."""

    def __init__(self) -> None:
        self._changes: list[RoleChange] = []

    def append(self, change: RoleChange) -> None:
        self._changes.append(change)

    def changes(self) -> list[RoleChange]:
        return list(self._changes)
