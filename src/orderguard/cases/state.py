"""What the order path asks the cases stage: is this principal suspended, is this order blocked,
is this record under legal hold.

``ResponseState`` keeps the active responses in memory, so a check is a set lookup. The
``ResponseService`` of the same process updates it before it returns, so a suspension takes
effect on the very next check; other processes call ``reload()`` (cheap: one query).
"""

from __future__ import annotations

import threading

from orderguard.cases.model import BlockedPattern, ResponseKind
from orderguard.cases.response_store import ResponseStore
from orderguard.cases.store import CaseStore
from orderguard.config import FirmConfig
from orderguard.domain import AccountType, Decision, ReasonCode
from orderguard.storage.events_store import EventStore

# Built once: the allow path is the hot path of every order.
_NOT_SUSPENDED = Decision.allow("not suspended")
_NOTHING_APPLIES = Decision.allow("no block or suspension applies")


class ResponseState:
    """Active suspensions, blocked patterns and legal holds, as the gateway and erasure see them."""

    def __init__(
        self,
        responses: ResponseStore,
        cases: CaseStore,
        config: FirmConfig,
        events: EventStore | None = None,
    ) -> None:
        self._responses = responses
        self._cases = cases
        self._events = events
        self._accounts = {a.id: a.owner for a in config.accounts().values() if a.type is AccountType.PERSONAL}
        self._lock = threading.Lock()
        self._suspended: frozenset[str] = frozenset()
        self._blocks: dict[str, tuple[BlockedPattern, ...]] = {}
        self._held: frozenset[str] = frozenset()
        self.reload()

    def reload(self) -> None:
        """Read the active responses from the database (what another process may have changed)."""
        active = self._responses.responses(active_only=True)
        with self._lock:
            self._suspended = frozenset(r.subject for r in active if r.kind is ResponseKind.SUSPEND)
            blocks: dict[str, tuple[BlockedPattern, ...]] = {}
            for r in active:
                if r.kind is ResponseKind.BLOCK and r.pattern is not None:
                    blocks[r.pattern.actor] = (*blocks.get(r.pattern.actor, ()), r.pattern)
            self._blocks = blocks
            self._held = frozenset(r.subject for r in active if r.kind is ResponseKind.LEGAL_HOLD)

    # --- queries the gateway makes ---------------------------------------------------------------
    def is_suspended(self, principal: str) -> bool:
        return principal in self._suspended

    def blocked_patterns(self) -> tuple[BlockedPattern, ...]:
        return tuple(p for patterns in self._blocks.values() for p in patterns)

    def check_access(self, principal: str) -> Decision:
        """May ``principal`` enter orders or read data at all?"""
        if principal in self._suspended:
            return Decision.deny(ReasonCode.PRINCIPAL_SUSPENDED, f"{principal} is suspended pending a case")
        return _NOT_SUSPENDED

    def check_order(
        self, actor: str, *, symbol: str | None, account: str | None = None, venue: str | None = None
    ) -> Decision:
        """Refuse an order of a suspended principal or one matching a blocked pattern."""
        if actor in self._suspended:
            return self.check_access(actor)
        for pattern in self._blocks.get(actor, ()):
            if pattern.matches(actor, symbol=symbol, account=account, venue=venue):
                return Decision.deny(
                    ReasonCode.PATTERN_BLOCKED, f"orders matching {pattern.describe()} are blocked"
                )
        return _NOTHING_APPLIES

    # --- legal holds (orderguard.audit.erasure asks ErasureAuthority.is_held) ---------------------
    def held_subjects(self) -> frozenset[str]:
        return self._held

    def is_held(self, object_id_or_subject: str) -> bool:
        """True if a legal hold covers this principal or a record about one.

        Covered: a held principal's id, their personal accounts, their cases and alerts, and
        every order they entered (looked up in the event store when one is given).
        """
        held = self._held
        if not held:
            return False
        return bool(self.owners_of(object_id_or_subject) & held)

    def owners_of(self, key: str) -> set[str]:
        """The principals a record is about: the principal itself, an account's owner, a case's
        subject, an alert's actor, a response's subject, or whoever entered an order."""
        owners = {key}
        if key in self._accounts:
            owners.add(self._accounts[key])
        case = self._cases.case(key)
        alert = self._cases.alert(key) if case is None else None
        response = self._responses.get(key) if case is None and alert is None else None
        if case is not None:
            owners.add(case.subject)
        elif alert is not None:
            owners.add(alert.alert.actor)
        elif response is not None:
            owners.add(response.subject)
        elif self._events is not None:
            owners |= {event.actor for event in self._events.by_order(key)}
        return owners

    # --- write-through from ResponseService -----------------------------------------------------
    def _activate(self, kind: ResponseKind, subject: str, pattern: BlockedPattern | None) -> None:
        # A lift re-reads everything instead (another response may still cover the same subject).
        with self._lock:
            if kind is ResponseKind.SUSPEND:
                self._suspended = self._suspended | {subject}
            elif kind is ResponseKind.LEGAL_HOLD:
                self._held = self._held | {subject}
            elif kind is ResponseKind.BLOCK and pattern is not None:
                self._blocks = {
                    **self._blocks,
                    pattern.actor: (*self._blocks.get(pattern.actor, ()), pattern),
                }
