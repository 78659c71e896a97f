"""structuring: one large order split into smaller ones that each stay below the four-eyes threshold.

T is ``[controls] large_order_notional``, the number four-eyes uses: an order
counts when 0 <= notional <= T, valued as the control values it (a SELL at
max(price, reference), no price: the reference of ``[reference_prices]``; an
order with neither is left out). Key: (trader, beneficial owner of the account,
symbol, side); an amend (a later client order with the same id) replaces the
order. At each counted order, its window holds the key's counted orders at most
``window_seconds`` earlier (inclusive); it is a burst with at least
``min_orders`` orders summing above T. An alert fires when a key's window
becomes a burst, naming every order in it, and not again while the burst stays
open (the previous order found one and an earlier order is still in the window).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind, Side
from orderguard.surveillance.columns import F64, I64, DayColumns, GroupIndex, expand_ranges
from orderguard.surveillance.context import seconds_to_ns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.detectors._structuring_columns import (
    control_notionals,
    owner_keys,
    replaced_positions,
    window_starts,
)
from orderguard.surveillance.detectors.wording import counted

# One counted order: a tuple of strings and numbers (builtins for a snapshot; the collector untracks
# it at its first look, so the many orders a window keeps cost it nothing after). REF is the order id,
# KEY its window's key (the batch walk leaves both None); SEQ numbers the orders in stream order, and
# an order's window knows it as replaced or gone by that number alone (a tuple cannot be marked).
TS, EVENT_ID, NOTIONAL, ACCOUNT, REF, SEQ, KEY = range(7)
SIDE_VALUE: Final = {side: side.value for side in Side}  # a dict read: Enum.value is a Python property
# Memory only (a window is trimmed when next used anyway): a sweep every four window spans drops the
# windows that have left them; most windows are looked at once, by the sweep that drops them.
SWEEP_WINDOWS: Final = 4
# A key's window: [deque of entries in stream order, whether the latest order found a burst, a running
# sum of the deque's notionals (replaced orders too), a bound on that running sum's rounding error,
# the set of SEQs of the deque's replaced orders, the SEQ below which every order has left the deque].
ENTRIES, BURST, ROUGH_SUM, ERROR_BOUND, REPLACED, FLOOR = range(6)
EPSILON: Final = 2.0**-52  # twice the unit roundoff: each + or - errs by at most EPSILON x |result|


Entry = tuple[Any, ...]


def _explain(actor: str, side: str, symbol: str, orders: list[Entry], threshold: float) -> str:
    total = math.fsum(e[NOTIONAL] for e in orders)
    accounts = list(dict.fromkeys(e[ACCOUNT] for e in orders))
    span = (orders[-1][TS] - orders[0][TS]) / 1e9
    return (
        f"{actor} entered {counted(len(orders), side + ' order')} of {symbol} for "
        f"{counted(len(accounts), 'account')} ({', '.join(accounts)}) within {span:.3f} s, each at most "
        f"the four-eyes threshold of {threshold:,.2f} but {total:,.2f} together: possible structuring "
        "to avoid large-order approval."
    )


def new_window() -> list[Any]:
    return [deque(), False, 0.0, 0.0, set(), 0]


def replace_order(seq: int, window: list[Any]) -> None:
    """A later client order with its order id replaces order ``seq`` (an amend); no-op once it left its
    window (every order of the window numbered FLOOR or above is still in its deque)."""
    if seq >= window[FLOOR]:
        window[REPLACED].add(seq)


def _trim(window: list[Any], horizon: int, live: dict[str, Entry]) -> None:
    """Drop the window's leading orders that are before the horizon or replaced (and their live ids)."""
    entries: deque[Entry] = window[ENTRIES]
    replaced: set[int] = window[REPLACED]
    while entries and (entries[0][TS] < horizon or entries[0][SEQ] in replaced):
        gone = entries.popleft()
        window[ROUGH_SUM] -= gone[NOTIONAL]
        window[ERROR_BOUND] += EPSILON * abs(window[ROUGH_SUM])
        window[FLOOR] = gone[SEQ] + 1  # gone from the window: a later amend of it changes nothing here
        if gone[SEQ] in replaced:
            replaced.remove(gone[SEQ])
        else:
            current = live.get(gone[REF])
            if current is not None and current[SEQ] == gone[SEQ]:
                del live[gone[REF]]
    if not entries:
        window[ROUGH_SUM] = window[ERROR_BOUND] = 0.0


class Structuring(Detector):
    rule: ClassVar[str] = "structuring"
    description: ClassVar[str] = "Client orders split so that each stays below the four-eyes threshold."
    kinds: ClassVar[frozenset[EventKind]] = frozenset({EventKind.CLIENT_ORDER})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.ctx.detectors.structuring
        self.window_ns = seconds_to_ns(settings.window_seconds)
        self.min_orders = settings.min_orders
        self.threshold = self.ctx.large_order_notional
        self.reference = self.ctx.reference_prices
        self._sweep_every = SWEEP_WINDOWS * self.window_ns
        self._owners: dict[str, str] = {}  # account -> beneficial owner (a cache of the firm's lookup)

    def initial_state(self) -> dict[str, Any]:
        # windows: (actor, owner, symbol, side) -> its window (layout above); live: order id -> its entry;
        # counted: how many orders were counted (the next SEQ)
        return {"windows": {}, "live": {}, "swept": [0], "counted": [0]}

    def control_price(self, price: float | None, symbol: str, side: Side) -> float | None:
        """The price four-eyes values an order at: max(price, reference) for a SELL, the reference
        without a price; None if the order cannot be valued."""
        reference = self.reference.get(symbol)
        if price is None or (reference is not None and side is Side.SELL and reference > price):
            return reference
        return price

    def advance(self, window: list[Any], entry: Entry, live: dict[str, Entry]) -> list[Entry] | None:
        """Add a counted order to its key's window; the burst's orders if the window has just become one.

        Both engines run this. A window that cannot be a burst (too few orders, replaced ones
        included, or a running sum below T by more than its rounding error can explain) is decided
        in constant time; otherwise the orders still alive are summed with math.fsum, which is exact
        whatever the order of its terms, so the engines decide alike.
        """
        entries: deque[Entry] = window[ENTRIES]
        replaced: set[int] = window[REPLACED]
        horizon = entry[TS] - self.window_ns
        if entries and (entries[0][TS] < horizon or (replaced and entries[0][SEQ] in replaced)):
            _trim(window, horizon, live)
        entries.append(entry)
        window[ROUGH_SUM] += entry[NOTIONAL]
        window[ERROR_BOUND] += EPSILON * abs(window[ROUGH_SUM])
        rough, error = window[ROUGH_SUM], 2 * window[ERROR_BOUND]
        # Replaced orders only add, so a window whose every order cannot be a burst is none.
        if len(entries) < self.min_orders or rough + error <= self.threshold:
            window[BURST] = False
            return None
        alive = len(entries) - len(replaced)
        if replaced or rough - error <= self.threshold:  # too close to call: sum exactly
            window[ROUGH_SUM], window[ERROR_BOUND] = math.fsum(e[NOTIONAL] for e in entries), 0.0
            exact = math.fsum(e[NOTIONAL] for e in entries if e[SEQ] not in replaced) if replaced else None
            total = window[ROUGH_SUM] if exact is None else exact
            burst = alive >= self.min_orders and total > self.threshold
        else:
            burst = True
        still_open = window[BURST] and alive > 1
        window[BURST] = burst
        if not burst or still_open:
            return None
        return [e for e in entries if e[SEQ] not in replaced] if replaced else list(entries)

    def _alert(self, actor: str, side: str, symbol: str, orders: list[Entry]) -> Alert:
        return self.alert(
            actor=actor,
            symbol=symbol,
            ts=orders[-1][TS],
            event_ids=tuple(e[EVENT_ID] for e in orders),
            explanation=_explain(actor, side, symbol, orders, self.threshold),
        )

    # -- stream -------------------------------------------------------------
    def bind_state(self) -> None:
        self._windows: dict[tuple[str, str, str, str], list[Any]] = self.state["windows"]
        self._live: dict[str, Entry] = self.state["live"]
        self._swept: list[int] = self.state["swept"]
        self._counted: list[int] = self.state["counted"]

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {EventKind.CLIENT_ORDER: self._client_order}

    def _sweep(self, now: int) -> None:
        """Drop the windows whose every order has left them, with their live ids (memory only: a window
        is trimmed when next used anyway, so one with a recent order is left as it is)."""
        horizon = now - self.window_ns
        live, windows = self._live, self._windows
        for key, window in list(windows.items()):
            entries: deque[Entry] = window[ENTRIES]
            if entries and entries[-1][TS] >= horizon:
                continue
            replaced: set[int] = window[REPLACED]
            for gone in entries:
                if gone[SEQ] not in replaced:
                    current = live.get(gone[REF])
                    if current is not None and current[SEQ] == gone[SEQ]:
                        del live[gone[REF]]
            del windows[key]
        self._swept[0] = now

    def _client_order(self, event: Event) -> Sequence[Alert]:
        ts, order_id = event.ts, event.order_id
        if ts - self._swept[0] > self._sweep_every:
            self._sweep(ts)
        if order_id is not None:
            replaced = self._live.pop(order_id, None)
            if replaced is not None:
                replace_order(replaced[SEQ], self._windows[replaced[KEY]])
        symbol, side, qty, account = event.symbol, event.side, event.qty, event.account
        if symbol is None or side is None or qty is None or account is None:
            return NO_ALERTS
        price = event.price
        if self.reference:  # the firm file has reference prices: value as four-eyes does (control_price)
            reference = self.reference.get(symbol)
            if price is None or (reference is not None and side is Side.SELL and reference > price):
                price = reference
        if price is None:
            return NO_ALERTS
        notional = qty * price
        if not 0 <= notional <= self.threshold:  # a large order (four-eyes sees it) or a negative one
            return NO_ALERTS
        owner = self._owners.get(account)
        if owner is None:
            owner = self._owners[account] = self.ctx.owner_of(account)
        key = (event.actor, owner, symbol, SIDE_VALUE[side])
        seq = self._counted[0]
        self._counted[0] = seq + 1
        entry = (ts, event.event_id, notional, account, order_id, seq, key)
        if order_id is not None:
            self._live[order_id] = entry
        window = self._windows.get(key)
        if window is None:  # a key's first order (most are): one order at most T is never a burst
            self._windows[key] = [deque((entry,)), False, notional, EPSILON * notional, set(), 0]
            return NO_ALERTS
        orders = self.advance(window, entry, self._live)
        return NO_ALERTS if orders is None else (self._alert(event.actor, SIDE_VALUE[side], symbol, orders),)

    # -- batch --------------------------------------------------------------
    def scan(self, day: DayColumns) -> list[Alert]:
        """Vectorised: value and key the orders, keep the stretches of a key's orders that could become a
        burst at all, then walk those few with ``advance``, exactly as the stream does."""
        pos = day.rows(EventKind.CLIENT_ORDER)
        replaced_at = replaced_positions(day, pos)
        notional = control_notionals(day, pos, self.reference)
        actor, account = day.coded("actor").codes[pos], day.coded("account").codes[pos]
        symbol, side = day.coded("symbol").codes[pos], day.side[pos]
        counted_rows = np.flatnonzero(
            (notional >= 0) & (notional <= self.threshold) & (actor >= 0) & (account >= 0) & (symbol >= 0)
        )
        counted_rows = counted_rows[side[counted_rows] >= 0]
        group = owner_keys(day, self.ctx, actor[counted_rows], account[counted_rows], symbol[counted_rows])
        group = group * 2 + side[counted_rows]
        index = GroupIndex(pos[counted_rows], group, day.n)
        rows = counted_rows[index.order]  # rows of pos, in (key, position) order
        stretches = self._candidate_stretches(day, index, notional[rows])
        return self._walk(day, pos, rows, stretches, notional=notional, replaced_at=replaced_at)

    def _candidate_stretches(
        self, day: DayColumns, index: GroupIndex, notional: F64
    ) -> list[tuple[int, int]]:
        """Index ranges [start, end) of runs of a key's orders (gaps within the window) that hold a row
        whose window has enough orders and a sum that may be above T: no other run can alert.

        A window never spans two runs. Runs with too few orders or too small a total drop out
        first; the windows are searched only within the runs left.
        """
        m = len(index.positions)
        if m < self.min_orders:
            return []
        ts = day.ts[index.positions]
        starts_run = np.ones(m, dtype=bool)
        starts_run[1:] = (index.groups[1:] != index.groups[:-1]) | (ts[1:] - ts[:-1] > self.window_ns)
        run_of = np.cumsum(starts_run) - 1
        run_starts = np.flatnonzero(starts_run)
        run_ends = np.r_[run_starts[1:], m]
        counts, totals = run_ends - run_starts, np.bincount(run_of, weights=notional)
        # The sum of a subset of a window is at most the window's; cumsum's rounding is bounded by this.
        slack = 1e-9 * self.threshold + 4 * EPSILON * float(totals.sum()) * m
        runs = np.flatnonzero((counts >= self.min_orders) & (totals > self.threshold - slack))
        if not len(runs):
            return []
        rows = expand_ranges(run_starts[runs], run_ends[runs])[1]
        run, times, values = run_of[rows], ts[rows], notional[rows]
        first = window_starts(run, times - ts[run_starts[run]], self.window_ns)
        cumulative = np.cumsum(values)
        upper = cumulative - cumulative[first] + values[first]
        size = np.arange(len(rows), dtype=np.int64) - first + 1
        chosen = np.unique(run[(size >= self.min_orders) & (upper > self.threshold - slack)])
        return list(zip(run_starts[chosen].tolist(), run_ends[chosen].tolist(), strict=True))

    def _walk(
        self,
        day: DayColumns,
        pos: I64,
        rows: I64,
        stretches: list[tuple[int, int]],
        *,
        notional: F64,
        replaced_at: I64,
    ) -> list[Alert]:
        """Run ``advance`` over each stretch's orders, as the stream meets them (strings taken at once)."""
        if not stretches:
            return []
        walked = np.concatenate([rows[start:end] for start, end in stretches])
        at = pos[walked]
        ids, accounts = day.event_ids(at), day.strings("account", at)
        firsts = pos[rows[[start for start, _ in stretches]]]
        names = [day.strings(name, firsts) for name in ("actor", "symbol", "side")]
        ts, values, replaced = day.ts[at].tolist(), notional[walked].tolist(), replaced_at[walked].tolist()
        here_of = at.tolist()
        alerts: list[Alert] = []
        first = 0
        for k, (start, end) in enumerate(stretches):
            actor, symbol, side = (column[k] or "" for column in names)
            window = new_window()
            amends: list[tuple[int, int]] = []  # (position of the amend, n: the order's SEQ): a heap
            for n in range(first, first + end - start):
                while amends and amends[0][0] <= here_of[n]:
                    replace_order(heapq.heappop(amends)[1], window)
                entry = (ts[n], ids[n], values[n], accounts[n], None, n, None)
                if replaced[n] < day.n:
                    heapq.heappush(amends, (replaced[n], n))
                orders = self.advance(window, entry, {})
                if orders is not None:
                    alerts.append(self._alert(actor, side, symbol, orders))
            first += end - start
        return alerts
