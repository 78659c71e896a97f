"""Pure domain types: events, principals, accounts, venues, decisions. No I/O, no imports of ours."""

from orderguard.domain.audit import AuditAction, AuditEntry, AuditSink
from orderguard.domain.decisions import Decision, ReasonCode
from orderguard.domain.events import (
    REQUIRED_FIELDS,
    Event,
    EventKind,
    Side,
    format_ts,
    parse_ts,
)
from orderguard.domain.principals import Account, AccountType, Principal, Role, Venue

__all__ = [
    "REQUIRED_FIELDS",
    "Account",
    "AccountType",
    "AuditAction",
    "AuditEntry",
    "AuditSink",
    "Decision",
    "Event",
    "EventKind",
    "Principal",
    "ReasonCode",
    "Role",
    "Side",
    "Venue",
    "format_ts",
    "parse_ts",
]
