"""Where pre-clearance state lives: every request with its decision, the blackout book (client
orders in the market and who viewed them) and the holding-period positions.

``PreClearance`` keeps its own in-memory indexes for the hot path and writes every change through
to a store before it takes effect; at start-up it loads the store's ``snapshot``. The blackout
book is persisted rather than rebuilt from the event store because the gate's accepted orders and
the views it authorised are not (or not yet: views are batched) in the event store, and a
restart must not open a blackout window early. ``InMemoryPreClearanceStore`` serves tests and
benchmarks; ``SqlPreClearanceStore`` (``orderguard.gateway.sql_state``) keeps it in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from orderguard.domain import Side


@dataclass(slots=True)
class ClientOrderState:
    """A client order in the blackout book: working, or done (executed / cancelled) at ``last_ns``."""

    order_id: str
    symbol: str
    desk: str | None
    working: bool
    last_ns: int


@dataclass(frozen=True, slots=True)
class Clearance:
    """A granted pre-clearance: one trade, this account, symbol and side, up to ``qty``."""

    clearance_id: str
    principal: str
    account: str
    symbol: str
    side: Side
    qty: float
    expires_ns: int


@dataclass(frozen=True, slots=True)
class PreClearanceRecord:
    """One pre-clearance request and its decision; ``spent_ns`` is set when the cleared trade ran."""

    request_id: str
    principal: str
    account: str
    symbol: str
    side: Side
    qty: float
    requested_ns: int
    allowed: bool
    reason_code: str
    message: str
    expires_ns: int | None = None
    spent_ns: int | None = None

    def clearance(self) -> Clearance | None:
        """The clearance this record grants, if it was allowed."""
        if not self.allowed or self.expires_ns is None:
            return None
        return Clearance(
            self.request_id, self.principal, self.account, self.symbol, self.side, self.qty, self.expires_ns
        )


@dataclass(slots=True)
class PreClearanceSnapshot:
    """Everything ``PreClearance`` needs at start-up."""

    client_orders: list[ClientOrderState] = field(default_factory=list)
    views: list[tuple[str, str]] = field(default_factory=list)  # (principal, order_id)
    positions: dict[tuple[str, str], tuple[Side, int]] = field(default_factory=dict)
    open_clearances: list[Clearance] = field(default_factory=list)  # granted, not spent, newest last


class PreClearanceStore(Protocol):
    """Persistence of pre-clearance state. Writes replace the row of the same key."""

    def snapshot(self) -> PreClearanceSnapshot: ...

    def save_request(self, record: PreClearanceRecord) -> None: ...

    def mark_spent(self, request_id: str, ts: int) -> None: ...

    def save_client_order(self, state: ClientOrderState) -> None: ...

    def save_view(self, principal: str, order_id: str, ts: int) -> None: ...

    def save_position(self, principal: str, symbol: str, side: Side, ts: int) -> None: ...

    def history(self, principal: str | None = None) -> list[PreClearanceRecord]:
        """Requests (every decision), oldest first; all principals when ``principal`` is None."""
        ...


class InMemoryPreClearanceStore:
    """Pre-clearance state in dictionaries; lost when the process ends."""

    def __init__(self) -> None:
        self._records: dict[str, PreClearanceRecord] = {}
        self._orders: dict[str, ClientOrderState] = {}
        self._views: dict[tuple[str, str], int] = {}
        self._positions: dict[tuple[str, str], tuple[Side, int]] = {}

    def snapshot(self) -> PreClearanceSnapshot:
        open_ = [r.clearance() for r in self._records.values() if r.spent_ns is None]
        return PreClearanceSnapshot(
            [replace(o) for o in self._orders.values()],
            list(self._views),
            dict(self._positions),
            [c for c in open_ if c is not None],
        )

    def save_request(self, record: PreClearanceRecord) -> None:
        self._records[record.request_id] = record

    def mark_spent(self, request_id: str, ts: int) -> None:
        record = self._records.get(request_id)
        if record is not None:
            self._records[request_id] = replace(record, spent_ns=ts)

    def save_client_order(self, state: ClientOrderState) -> None:
        self._orders[state.order_id] = replace(state)

    def save_view(self, principal: str, order_id: str, ts: int) -> None:
        self._views.setdefault((principal, order_id), ts)

    def save_position(self, principal: str, symbol: str, side: Side, ts: int) -> None:
        self._positions[(principal, symbol)] = (side, ts)

    def history(self, principal: str | None = None) -> list[PreClearanceRecord]:
        return [r for r in self._records.values() if principal is None or r.principal == principal]
