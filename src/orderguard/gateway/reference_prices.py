"""Reference prices for notional-based controls, and the notional those controls use.

A symbol's reference price is the highest of three: the latest fill the desk saw (returned by the
connector), the latest market price (the market-data feed, an end-of-day file) and the firm file's
optional ``[reference_prices]`` floor. Fill and market price are kept apart: a fill is a price the
desk's own traders can make (a one-share sell at 0.10), so it may raise a sell's notional but never
replace the market's. With a database both are stored (``reference_store``) and survive a restart;
reads are cached for ``refresh_ns``, so another process's writes (the CLI's end-of-day load) arrive
within a second without a query per order.

The notional a control compares with its threshold must not rest on a price the trader chose
when that price does not bound the execution: a sell limit far below the market is marketable
and fills at the market, so a SELL counts at max(limit, reference). A BUY counts at its limit.
Only the firm-file floor or a market price younger than ``reference_max_age_seconds`` vouches for
a sell ("priced"); an older one still raises its notional (it can only ask for more approvals).
An unpriced SELL of more than ``unpriced_sell_max_qty`` needs large-order approval.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from orderguard.domain import Event, Side
from orderguard.gateway.control_notional import ControlNotional, ReferenceRule, control_notional
from orderguard.gateway.orders import OrderTicket

FIRM_FILE = "firm file [reference_prices]"
FILL_SOURCE = "fill"
NS_PER_SECOND = 1_000_000_000
REFRESH_NS = NS_PER_SECOND  # how long a stored price read is reused before it is read again
FLUSH_NS = NS_PER_SECOND // 2  # fills are written at most this often (coalesced, latest per symbol)


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    """A symbol's reference price, where it came from and (unless the firm file) when, in epoch ns."""

    price: float
    source: str
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """One observation to store: ``source`` is ``fill``, ``feed:<principal>`` or ``file:<name>``."""

    symbol: str
    price: float
    ts: int
    source: str

    @property
    def kind(self) -> str:
        """``fill`` (the desk's own executions) or ``market`` (feed, file): stored side by side."""
        return FILL_SOURCE if self.source == FILL_SOURCE else "market"

    def reference(self) -> ReferencePrice:
        return ReferencePrice(self.price, describe_source(self.source, self.ts), self.ts)


def describe_source(source: str, ts: int) -> str:
    """What approvers and decision messages read for a stored price's source."""
    if source == FILL_SOURCE:
        return f"last fill seen by the desk at ts {ts}"
    return f"{source} at ts {ts}"


# The latest fill and market price of a symbol, as references (built once, not per order), and when read.
Held = tuple["ReferencePrice | None", "ReferencePrice | None", int]
_NOTHING: Held = (None, None, 0)


class ReferenceStore(Protocol):
    """Durable latest prices (``reference_store.SqlReferenceStore``)."""

    def latest(self, symbol: str) -> tuple[PriceUpdate | None, PriceUpdate | None]:
        """(latest fill, latest market price) of ``symbol``."""
        ...

    def record(self, updates: Iterable[PriceUpdate], now_ns: int) -> None: ...


def newer(held: PriceUpdate | None, update: PriceUpdate | None) -> PriceUpdate | None:
    """The later of two observations of one symbol and kind (``update`` on a tie)."""
    if held is None or (update is not None and held.ts <= update.ts):
        return update
    return held


def _reference(update: PriceUpdate | None) -> ReferencePrice | None:
    return None if update is None else update.reference()


def _later(held: ReferencePrice | None, update: PriceUpdate) -> ReferencePrice | None:
    """``update`` as a reference if it is at least as recent as ``held``, else ``held``."""
    if held is None or (held.ts or 0) <= update.ts:
        return update.reference()
    return held


class ReferencePrices:
    """Per-symbol reference prices: the higher of the latest fill, the latest market price (feed or
    file) and the firm file's floor. Only the floor or a fresh market price vouches for a sell: a
    fill is a price the desk's own traders can make (it can raise a sell's notional, never lower it).
    Thread-safe; with a store, each symbol is read at most once per ``refresh_ns``."""

    def __init__(
        self,
        configured: Mapping[str, float] | None = None,
        *,
        store: ReferenceStore | None = None,
        rule: ReferenceRule | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        refresh_ns: int = REFRESH_NS,
        flush_ns: int = FLUSH_NS,
    ) -> None:
        self._configured = {s: ReferencePrice(float(p), FIRM_FILE) for s, p in (configured or {}).items()}
        self.store = store
        self.rule = rule or ReferenceRule()
        self._clock = clock
        self._refresh_ns = refresh_ns
        self._flush_ns = flush_ns
        self._held: dict[str, Held] = {}  # symbol -> (latest fill, latest market price, read at)
        self._pending: dict[str, PriceUpdate] = {}  # fills not yet written
        self._flushed_at = clock()
        self._lock = threading.Lock()

    def get(self, symbol: str) -> ReferencePrice | None:
        """The highest of the latest fill, the latest market price and the floor; None if none is known."""
        return self.reference_for(symbol, None)[0]

    def reference_for(self, symbol: str, now_ns: int | None) -> tuple[ReferencePrice | None, bool]:
        """(reference, trusted): the highest known price; trusted if the firm file has a floor or the
        latest market price is at most the rule's age at ``now_ns`` (None: any age)."""
        fill, market, _ = self._latest(symbol)
        configured = self._configured.get(symbol)
        best: ReferencePrice | None = None
        for candidate in (configured, market, fill):
            if candidate is not None and (best is None or candidate.price > best.price):
                best = candidate
        trusted = configured is not None or (
            market is not None and (now_ns is None or self.rule.fresh(market, now_ns))
        )
        return best, trusted

    def held_reference(self, symbol: str) -> ReferencePrice | None:
        """The highest of the floor and the prices held here, without reading the store (for when the
        store cannot be read)."""
        fill, market, _ = self._held.get(symbol) or _NOTHING
        known = [p for p in (self._configured.get(symbol), market, fill) if p is not None]
        return max(known, key=lambda p: p.price, default=None)

    def assess(self, order: OrderTicket) -> ControlNotional:
        """The control notional of ``order`` at its own time; only a SELL looks its reference up."""
        if order.side is not Side.SELL:
            return control_notional(order, None, priced=True)
        reference, trusted = self.reference_for(order.symbol, order.ts)
        return control_notional(order, reference, priced=trusted, rule=self.rule)

    def _latest(self, symbol: str) -> Held:
        held = self._held.get(symbol)
        store = self.store
        if store is None:
            return held or _NOTHING
        now = self._clock()
        if held is not None and now - held[2] < self._refresh_ns:
            return held
        fill, market = store.latest(symbol)
        with self._lock:
            fill = newer(fill, self._pending.get(symbol))  # a fill not yet written may be newer
            held = (_reference(fill), _reference(market), now)
            self._held[symbol] = held
        return held

    def observe(self, symbol: str, price: float, ts: int) -> None:
        """Record an execution at ``price``; a fill older than the one held is ignored. With a store
        the fills are written, latest per symbol, at most every ``flush_ns`` (and by ``flush``)."""
        if not (math.isfinite(price) and price > 0):
            return
        update = PriceUpdate(symbol, price, ts, FILL_SOURCE)
        with self._lock:
            self._hold(update)
            if self.store is not None:
                pending = newer(self._pending.get(symbol), update)
                assert pending is not None
                self._pending[symbol] = pending
        if self.store is not None and self._clock() - self._flushed_at >= self._flush_ns:
            self.flush()

    def _hold(self, update: PriceUpdate) -> None:
        """Keep ``update`` in memory if it is the latest of its kind (the caller holds the lock)."""
        fill, market, read_at = self._held.get(update.symbol) or (None, None, -self._refresh_ns)
        if update.source == FILL_SOURCE:
            fill = _later(fill, update)
        else:
            market = _later(market, update)
        self._held[update.symbol] = (fill, market, read_at)

    def observe_fills(self, executions: Iterable[Event]) -> None:
        """Record each fill that carries a symbol and a price."""
        for event in executions:
            if event.symbol is not None and event.price is not None:
                self.observe(event.symbol, event.price, event.ts)

    def publish(self, updates: Iterable[PriceUpdate], now_ns: int) -> None:
        """Store a feed batch or a file (already validated and audited), then hold it here at once."""
        batch = list(updates)
        if self.store is not None:
            self.store.record(batch, now_ns)
        with self._lock:
            for update in batch:
                self._hold(update)

    def flush(self) -> None:
        """Write the fills not yet stored (the order desk's close calls it too)."""
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
            self._flushed_at = self._clock()
        if pending and self.store is not None:
            self.store.record(pending, time.time_ns())
