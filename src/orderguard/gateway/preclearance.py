"""Personal-trade pre-clearance: the preventive twin of front-running detection.

A personal trade is denied when its symbol, or an instrument related to it in the firm file, is
on the restricted list (RESTRICTED_SYMBOL); while a client order in it is working, or executed
within ``preclearance_blackout_seconds``, and the employee could see that order (same desk, viewed
it, or holds a read-all role) (PRECLEARANCE_BLACKOUT); or when it reverses a personal trade in
the same symbol within ``holding_period_days`` (HOLDING_PERIOD). A granted clearance is valid
for one trade, same symbol, side and at most the cleared quantity, for ``CLEARANCE_TTL_SECONDS``:
the order check that finds it valid also holds it for that order (``cleared(hold_for=...)``, under a
lock), so two orders racing on one clearance cannot both pass before either is spent.
Every request, decision and fact is written through to a ``PreClearanceStore`` (after the audit
entry, before it takes effect), so a restart keeps clearances, the blackout book and positions.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Final

from orderguard.approvals.model import NOWHERE, Origin
from orderguard.config import ControlsConfig
from orderguard.domain import Account, AuditAction, AuditEntry, AuditSink, Decision, ReasonCode, Role, Side
from orderguard.gateway.preclearance_store import (
    Clearance,
    ClientOrderState,
    InMemoryPreClearanceStore,
    PreClearanceRecord,
    PreClearanceStore,
)
from orderguard.policy.directory import RoleDirectory

NS: Final = 1_000_000_000
CLEARANCE_TTL_SECONDS: Final = 24 * 3600
READ_ALL_ROLES: Final = frozenset({Role.COMPLIANCE, Role.SECURITY, Role.ORDER_APPROVER})
# Rule ids recorded with every pre-clearance decision (as the policy ids of the audit entry).
RESTRICTED_RULE: Final = "preclearance-restricted-list"
BLACKOUT_RULE: Final = "preclearance-blackout"
HOLDING_RULE: Final = "preclearance-holding-period"
REQUIRED_RULE: Final = "preclearance-required"

__all__ = ["CLEARANCE_TTL_SECONDS", "Clearance", "ClientOrderState", "PreClearance", "related_closure"]


def related_closure(related: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Symmetric relation: AAPL -> {AAPL-OPT} also gives AAPL-OPT -> {AAPL}; each symbol relates to itself."""
    groups: dict[str, set[str]] = {}
    for root, others in related.items():
        members = {root, *others}
        for m in members:
            groups.setdefault(m, {m}).update(members)
    return {k: frozenset(v) for k, v in groups.items()}


class PreClearance:
    """Pre-clearance requests and the facts they rest on (client orders, views, personal trades)."""

    def __init__(
        self,
        controls: ControlsConfig,
        directory: RoleDirectory,
        accounts: Mapping[str, Account],
        audit: AuditSink,
        *,
        store: PreClearanceStore | None = None,
    ) -> None:
        self.restricted = frozenset(controls.restricted_symbols)
        self.related = related_closure(controls.related_instruments)
        self.blackout_ns = int(controls.preclearance_blackout_seconds * NS)
        self.holding_ns = controls.holding_period_days * 86_400 * NS
        self.directory = directory
        self.accounts = accounts
        self.audit = audit
        self.store: PreClearanceStore = store if store is not None else InMemoryPreClearanceStore()
        self._orders_by_symbol: dict[str, dict[str, ClientOrderState]] = {}
        self._orders: dict[str, ClientOrderState] = {}
        self._viewed: dict[str, set[str]] = {}
        self._last_trade: dict[tuple[str, str], tuple[Side, int]] = {}
        self._clearances: dict[tuple[str, str, str], Clearance] = {}
        self._held: dict[str, Clearance] = {}  # order id -> the clearance its check took
        self._lock = threading.Lock()  # the check and the hold of a clearance are one step
        self._load()

    def _load(self) -> None:
        """Rebuild the in-memory indexes from the store (a restart keeps the book and clearances)."""
        snapshot = self.store.snapshot()
        for state in snapshot.client_orders:
            self._orders[state.order_id] = state
            self._orders_by_symbol.setdefault(state.symbol, {})[state.order_id] = state
        for principal, order_id in snapshot.views:
            self._viewed.setdefault(principal, set()).add(order_id)
        self._last_trade.update(snapshot.positions)
        for clearance in snapshot.open_clearances:
            self._clearances[(clearance.principal, clearance.account, clearance.symbol)] = clearance

    # ---- facts ---------------------------------------------------------------------------------
    def client_order(
        self, order_id: str, symbol: str, desk: str | None, ts: int, *, working: bool = True
    ) -> None:
        """A client order was accepted (working) or executed / cancelled (working=False) at ``ts``.

        The blackout runs while it works and for ``preclearance_blackout_seconds`` after it is done.
        """
        state = self._orders.get(order_id)
        if state is None:
            state = ClientOrderState(order_id, symbol, desk, working, ts)
            self.store.save_client_order(state)
            self._orders[order_id] = state
            self._orders_by_symbol.setdefault(symbol, {})[order_id] = state
        else:
            self.store.save_client_order(ClientOrderState(order_id, state.symbol, state.desk, working, ts))
            state.working, state.last_ns = working, ts

    def order_done(self, order_id: str, ts: int) -> None:
        """A booked client order executed or was cancelled at ``ts``: its blackout ends a window later."""
        state = self._orders.get(order_id)
        if state is not None:
            self.client_order(order_id, state.symbol, state.desk, ts, working=False)

    def order_viewed(self, principal: str, order_id: str, ts: int = 0) -> None:
        """``principal`` saw ``order_id``: they are in its blackout from now on."""
        seen = self._viewed.setdefault(principal, set())
        if order_id not in seen:
            self.store.save_view(principal, order_id, ts)
            seen.add(order_id)

    def personal_trade_done(self, principal: str, symbol: str, side: Side, ts: int) -> None:
        """A personal trade ran: the holding period for ``symbol`` starts (again) at ``ts``."""
        self.store.save_position(principal, symbol, side, ts)
        self._last_trade[(principal, symbol)] = (side, ts)

    def history(self, principal: str | None = None) -> list[PreClearanceRecord]:
        """Every pre-clearance request with its decision, oldest first."""
        return self.store.history(principal)

    # ---- decisions -----------------------------------------------------------------------------
    def evaluate(self, principal_id: str, symbol: str, side: Side, now: int) -> Decision:
        """The pre-clearance rules without side effects (no audit, no clearance)."""
        group = self.related.get(symbol, frozenset({symbol}))
        hit = group & self.restricted
        if hit:
            return Decision.deny(
                ReasonCode.RESTRICTED_SYMBOL,
                f"{symbol} is restricted ({', '.join(sorted(hit))} on the restricted list)",
                (RESTRICTED_RULE,),
            )
        principal = self.directory.get(principal_id)
        read_all = principal is not None and bool(principal.roles & READ_ALL_ROLES)
        desk = None if principal is None else principal.desk
        viewed = self._viewed.get(principal_id, set())
        for member in group:
            # A snapshot: other threads book client orders while a personal trade is checked.
            for state in tuple(self._orders_by_symbol.get(member, {}).values()):
                live = state.working or now - state.last_ns <= self.blackout_ns
                visible = read_all or (desk is not None and desk == state.desk) or state.order_id in viewed
                if live and visible:
                    status = "working" if state.working else "recently executed or cancelled"
                    return Decision.deny(
                        ReasonCode.PRECLEARANCE_BLACKOUT,
                        f"client order {state.order_id} in {member} is {status}, visible to {principal_id}",
                        (BLACKOUT_RULE,),
                    )
        last = self._last_trade.get((principal_id, symbol))
        if last is not None and last[0] is not side and now - last[1] < self.holding_ns:
            days = self.holding_ns // (86_400 * NS)
            return Decision.deny(
                ReasonCode.HOLDING_PERIOD,
                f"{principal_id} traded {symbol} ({last[0].value}) less than {days} days ago",
                (HOLDING_RULE,),
            )
        rules = (RESTRICTED_RULE, BLACKOUT_RULE, HOLDING_RULE)
        return Decision.allow(f"{side.value} {symbol} pre-cleared for {principal_id}", rules)

    def request(
        self,
        principal_id: str,
        account: str,
        *,
        symbol: str,
        side: Side,
        qty: float,
        now: int,
        origin: Origin = NOWHERE,
    ) -> tuple[Decision, Clearance | None]:
        """Ask to trade personally; request and decision are audited (with ``origin``), a granted
        clearance is kept."""
        owner = self.accounts.get(account)
        if owner is None or owner.owner != principal_id:
            decision = Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"{account} is not a personal account of {principal_id}"
            )
        else:
            decision = self.evaluate(principal_id, symbol, side, now)
        record = PreClearanceRecord(
            f"pc-{secrets.token_hex(6)}",
            principal_id,
            account,
            symbol,
            side,
            qty,
            now,
            decision.allowed,
            decision.reason.value,
            decision.message,
            now + CLEARANCE_TTL_SECONDS * NS if decision.allowed else None,
        )
        clearance = record.clearance()
        self.audit.append(
            AuditEntry(
                kind="preclearance",
                action=AuditAction.DECIDED,
                object_id=record.request_id,
                actor=principal_id,
                ts=now,
                after={"account": account, "symbol": symbol, "side": side.value, "qty": qty},
                ip=origin.ip,
                session_id=origin.session_id,
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )
        self.store.save_request(record)
        if clearance is not None:
            self._clearances[(principal_id, account, symbol)] = clearance
        return decision, clearance

    def cleared(
        self,
        principal_id: str,
        account: str,
        *,
        symbol: str,
        side: Side,
        qty: float,
        now: int,
        hold_for: str | None = None,
    ) -> Decision:
        """Does a valid clearance cover this trade? Rules run again: a blackout may have begun since.

        With ``hold_for`` (an order id) a covering clearance is taken for that order at once, so
        a concurrent order finds none; ``spend`` uses it up, ``release`` gives it back.
        """
        key = (principal_id, account, symbol)
        with self._lock:
            clearance = self._clearances.get(key)
            if (
                clearance is None
                or clearance.side is not side
                or qty > clearance.qty
                or now >= clearance.expires_ns
            ):
                return Decision.deny(
                    ReasonCode.PRECLEARANCE_REQUIRED,
                    f"no valid pre-clearance for {principal_id} to {side.value} {qty:g} {symbol} "
                    f"in {account}",
                    (REQUIRED_RULE,),
                )
            decision = self.evaluate(principal_id, symbol, side, now)
            if decision.allowed and hold_for is not None:
                self._held[hold_for] = self._clearances.pop(key)
            return decision

    def release(self, order_id: str) -> None:
        """The order holding a clearance did not go (its audit entry failed): the clearance is free again."""
        with self._lock:
            clearance = self._held.pop(order_id, None)
            if clearance is not None:
                self._clearances.setdefault(
                    (clearance.principal, clearance.account, clearance.symbol), clearance
                )

    def spend(
        self,
        principal_id: str,
        account: str,
        symbol: str,
        side: Side,
        ts: int,
        *,
        order_id: str | None = None,
    ) -> None:
        """The cleared trade went ahead: the clearance (held for ``order_id``, if given) is used up and
        the holding period starts."""
        with self._lock:
            if order_id is not None:
                clearance = self._held.pop(order_id, None)
            else:
                clearance = self._clearances.pop((principal_id, account, symbol), None)
        if clearance is not None:
            self.store.mark_spent(clearance.clearance_id, ts)
        self.personal_trade_done(principal_id, symbol, side, ts)
