"""Principals (employees), their roles, accounts and venues."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    TRADER = "trader"
    DEVELOPER = "developer"
    ADMIN = "admin"
    ANALYST = "analyst"
    SUPPORT = "support"
    COMPLIANCE = "compliance"
    SECURITY = "security"
    # Approver roles: who may count toward a quorum for a sensitive action.
    ORDER_APPROVER = "order_approver"
    WITHDRAWAL_INITIATOR = "withdrawal_initiator"
    WITHDRAWAL_APPROVER = "withdrawal_approver"
    DEPLOYER = "deployer"
    CODE_REVIEWER = "code_reviewer"
    KEY_CUSTODIAN = "key_custodian"
    ROLE_ADMIN = "role_admin"


class AccountType(StrEnum):
    CLIENT = "client"
    PERSONAL = "personal"
    FIRM = "firm"


@dataclass(frozen=True, slots=True)
class Principal:
    """An employee: who they are, what roles they hold, which desk they sit on."""

    id: str
    name: str
    roles: frozenset[Role]
    desk: str | None = None
    email: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class Account:
    """An account: client, personal (an employee's) or firm. Owner and beneficial owner."""

    id: str
    type: AccountType
    owner: str
    beneficial_owner: str
    desk: str | None = None


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    name: str
    mic: str | None = None
