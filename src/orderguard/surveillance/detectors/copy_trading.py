"""copy_trading: an employee who handled or viewed a client order trades the same way right after it fills.

A personal trade P, a client order C in the same instrument family and side,
and E, the latest execution of C before P, alert when P.ts - E.ts <= lag and
the trader handled C (C.actor == P.actor) or viewed it between C and P (a
view of C's order id, or a view of C's account that names no order). The
alert names C, the earliest such view V (if any), E and P.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import BOOL, I64, DayColumns, GroupIndex, expand_ranges
from orderguard.surveillance.context import seconds_to_ns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.families import family_side_groups
from orderguard.surveillance.orders import OrderLifecycle

# Bounds of _reachable's (family and side) x time-bucket table of personal trades.
MAX_BUCKETS: Final = 4096
MAX_CELLS: Final = 1 << 24

# Stream record of one client order (a list, so a snapshot holds builtins only). (ts, seq) pairs order
# the events an alert names exactly as the batch engine's row positions do.
(
    C_ID,
    C_TS,
    C_SEQ,
    C_ACTOR,
    C_ACCOUNT,
    C_KEY,
    C_QTY,
    C_EXECUTED,
    C_WORKING,
    C_LAST_ID,
    C_LAST_TS,
    C_LAST_SEQ,
    C_VIEWERS,
    C_OID,
) = range(14)


def _explain(actor: str, handled: bool, order_id: str, trade: tuple[str, float, str], gap_ns: int) -> str:
    """trade = (side, qty, symbol) of the personal trade."""
    side, qty, symbol = trade
    how = "handled" if handled else "viewed"
    return (
        f"{actor} {how} client order {order_id} and made a personal {side} of {qty:g} {symbol} "
        f"{gap_ns / 1e9:.3f} s after its latest execution: possible copy trading."
    )


class CopyTrading(Detector):
    rule: ClassVar[str] = "copy_trading"
    description: ClassVar[str] = "A personal trade copying a client order the trader handled or viewed."
    kinds: ClassVar[frozenset[EventKind]] = frozenset(
        {
            EventKind.PERSONAL_TRADE,
            EventKind.CLIENT_ORDER,
            EventKind.EXECUTION,
            EventKind.ORDER_CANCEL,
            EventKind.ORDER_VIEW,
        }
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lag_ns = seconds_to_ns(self.ctx.detectors.copy_trading.lag_seconds)

    def initial_state(self) -> dict[str, Any]:
        return {
            "orders": {},  # order_id -> record of the latest client order with that id
            "by_account": {},  # account -> {client event_id: record} of orders still tracked
            "filled": {},  # (family, side) -> {client event_id: record} with an execution
            "expiry": deque(),  # (ts, record) per execution, in stream order: when it stops counting
        }

    # -- stream -------------------------------------------------------------
    def bind_state(self) -> None:
        self._orders: dict[str, list[Any]] = self.state["orders"]
        self._by_account: dict[str, dict[str, list[Any]]] = self.state["by_account"]
        self._filled: dict[tuple[str, str], dict[str, list[Any]]] = self.state["filled"]
        self._expiry: deque[tuple[int, list[Any]]] = self.state["expiry"]

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {
            EventKind.CLIENT_ORDER: self._client_order,
            EventKind.EXECUTION: self._execution,
            EventKind.ORDER_CANCEL: self._cancel,
            EventKind.ORDER_VIEW: self._view,
            EventKind.PERSONAL_TRADE: self._personal_trade,
        }

    def _forget(self, record: list[Any]) -> None:
        tracked = self._by_account.get(record[C_ACCOUNT])
        if tracked is not None:
            tracked.pop(record[C_ID], None)
            if not tracked:
                del self._by_account[record[C_ACCOUNT]]
        if self._orders.get(record[C_OID]) is record:
            del self._orders[record[C_OID]]
        if record[C_LAST_ID] is not None:  # only an executed order can be in filled
            filled = self._filled.get(record[C_KEY])
            if filled is not None:
                filled.pop(record[C_ID], None)
                if not filled:
                    del self._filled[record[C_KEY]]

    def _stop(self, record: list[Any]) -> None:
        record[C_WORKING] = False
        if record[C_LAST_ID] is None:
            self._forget(record)

    def _expire(self, now: int) -> None:
        """Drop records whose latest execution is older than the lag: a little at every event, no pauses.

        Memory only: a personal trade skips such a record anyway, and a record no
        longer working can never get a newer execution.
        """
        horizon = now - self.lag_ns
        expiry = self._expiry
        while expiry and expiry[0][0] < horizon:
            last_ts, record = expiry.popleft()
            if record[C_LAST_TS] != last_ts:
                continue  # a later execution of the order has its own entry
            if record[C_WORKING]:
                filled = self._filled.get(record[C_KEY])
                if filled is not None:
                    filled.pop(record[C_ID], None)
                    if not filled:
                        del self._filled[record[C_KEY]]
            else:
                self._forget(record)

    def _client_order(self, event: Event) -> Sequence[Alert]:
        if self._expiry and self._expiry[0][0] < event.ts - self.lag_ns:
            self._expire(event.ts)
        order_id = event.order_id
        if order_id is None or event.qty is None:
            return NO_ALERTS
        previous = self._orders.get(order_id)
        if previous is not None and previous[C_WORKING]:
            self._stop(previous)
        symbol, side, account = event.symbol, event.side, event.account
        if symbol is None or side is None or account is None:
            return NO_ALERTS
        record: list[Any] = [
            event.event_id,
            event.ts,
            event.seq,
            event.actor,
            account,
            self.ctx.family_side(symbol, side),
            event.qty,
            0.0,
            True,
            None,
            0,
            0,
            None,  # viewers: {actor: (event_id, ts, seq) of their first view}, made at the first view
            order_id,
        ]
        self._orders[order_id] = record
        tracked = self._by_account.get(account)
        if tracked is None:
            tracked = self._by_account[account] = {}
        tracked[event.event_id] = record
        return NO_ALERTS

    def _execution(self, event: Event) -> Sequence[Alert]:
        if self._expiry and self._expiry[0][0] < event.ts - self.lag_ns:
            self._expire(event.ts)
        record = self._orders.get(event.order_id)  # type: ignore[arg-type]
        if record is None or not record[C_WORKING] or event.qty is None:
            return NO_ALERTS
        record[C_EXECUTED] += event.qty
        record[C_LAST_ID] = event.event_id
        record[C_LAST_TS] = event.ts
        record[C_LAST_SEQ] = event.seq
        self._expiry.append((event.ts, record))
        filled = self._filled.get(record[C_KEY])
        if filled is None:
            filled = self._filled[record[C_KEY]] = {}
        filled[record[C_ID]] = record
        if record[C_EXECUTED] >= record[C_QTY]:
            self._stop(record)
        return NO_ALERTS

    def _cancel(self, event: Event) -> Sequence[Alert]:
        if self._expiry and self._expiry[0][0] < event.ts - self.lag_ns:
            self._expire(event.ts)
        record = self._orders.get(event.order_id)  # type: ignore[arg-type]
        if record is not None and record[C_WORKING]:
            self._stop(record)
        return NO_ALERTS

    def _view(self, event: Event) -> Sequence[Alert]:
        if self._expiry and self._expiry[0][0] < event.ts - self.lag_ns:
            self._expire(event.ts)
        actor = event.actor
        if event.order_id is not None:
            record = self._orders.get(event.order_id)
            if record is not None:
                viewers = record[C_VIEWERS]
                if viewers is None:
                    record[C_VIEWERS] = {actor: (event.event_id, event.ts, event.seq)}
                elif actor not in viewers:
                    viewers[actor] = (event.event_id, event.ts, event.seq)
        elif event.account is not None:
            tracked = self._by_account.get(event.account)
            if tracked:
                seen = (event.event_id, event.ts, event.seq)
                for record in tracked.values():
                    viewers = record[C_VIEWERS]
                    if viewers is None:
                        record[C_VIEWERS] = {actor: seen}
                    elif actor not in viewers:
                        viewers[actor] = seen
        return NO_ALERTS

    def _personal_trade(self, event: Event) -> Sequence[Alert]:
        if self._expiry and self._expiry[0][0] < event.ts - self.lag_ns:
            self._expire(event.ts)
        symbol, side, qty = event.symbol, event.side, event.qty
        if symbol is None or side is None or qty is None:
            return NO_ALERTS
        key = self.ctx.family_side(symbol, side)
        horizon = event.ts - self.lag_ns
        actor = event.actor
        alerts = NO_ALERTS
        for record in self._filled.get(key, {}).values():
            if record[C_LAST_TS] < horizon:
                continue
            handled = record[C_ACTOR] == actor
            view = record[C_VIEWERS].get(actor) if record[C_VIEWERS] else None
            if not handled and view is None:
                continue
            parts = [
                (record[C_TS], record[C_SEQ], record[C_ID]),
                (record[C_LAST_TS], record[C_LAST_SEQ], record[C_LAST_ID]),
                (event.ts, event.seq, event.event_id),
            ]
            if view is not None:
                parts.append((view[1], view[2], view[0]))
            alerts += (
                self.alert(
                    actor=actor,
                    symbol=symbol,
                    ts=event.ts,
                    event_ids=tuple(part[2] for part in sorted(parts)),
                    explanation=_explain(
                        actor, handled, record[C_OID], (key[1], qty, symbol), event.ts - record[C_LAST_TS]
                    ),
                ),
            )
        return alerts

    # -- batch --------------------------------------------------------------
    def scan(self, day: DayColumns) -> list[Alert]:
        life = OrderLifecycle.of(day)
        groups = family_side_groups(day, self.ctx)
        actor = day.coded("actor").codes
        account = day.coded("account").codes
        c_ok = (groups[life.c_pos] >= 0) & (account[life.c_pos] >= 0)
        e_keep = c_ok[life.e_owner]
        e_pos, e_owner = life.e_pos[e_keep], life.e_owner[e_keep]
        p_pos = day.rows(EventKind.PERSONAL_TRADE)
        p_pos = p_pos[(groups[p_pos] >= 0) & ~np.isnan(day.qty[p_pos])]
        e_group = groups[life.c_pos[e_owner]]
        reachable = self._reachable(day, e_pos, e_group, p_pos, groups[p_pos])
        e_pos, e_owner, e_group = e_pos[reachable], e_owner[reachable], e_group[reachable]
        # Executions in [P.ts - lag, P) of the same family and side.
        index = GroupIndex(e_pos, e_group, day.n)
        lo, hi = index.range(groups[p_pos], day.positions_from(day.ts[p_pos] - self.lag_ns), p_pos)
        query, member = expand_ranges(lo, hi)
        pp, ep, cc = p_pos[query], index.positions[member], e_owner[index.order[member]]
        # Keep the latest execution per (P, C): pairs are in (P, E position) order.
        order = np.lexsort((ep, cc, pp))
        pp, ep, cc = pp[order], ep[order], cc[order]
        last = np.r_[(pp[1:] != pp[:-1]) | (cc[1:] != cc[:-1]), True] if len(pp) else np.zeros(0, bool)
        pp, ep, cc = pp[last], ep[last], cc[last]
        cp = life.c_pos[cc]
        handled = actor[cp] == actor[pp]
        view = self._earliest_views(day, life, cc=cc, cp=cp, pp=pp)
        keep = handled | (view >= 0)
        return self._alerts(day, pp[keep], ep[keep], cp=cp[keep], vp=view[keep], handled=handled[keep])

    def _reachable(self, day: DayColumns, e_pos: I64, e_group: I64, p_pos: I64, p_group: I64) -> BOOL:
        """Executions that a personal trade of their family and side may follow within the lag.

        A superset, cheap to test: with time cut into buckets at least ``lag`` wide, a trade
        at most ``lag`` after an execution lies in the execution's bucket or the next one.
        Indexing only these executions spares the range join most of the day's executions.
        """
        if not len(p_pos) or not len(e_pos):
            return np.zeros(len(e_pos), dtype=bool)
        first = int(day.ts[0])
        span = int(day.ts[-1]) - first + 1
        width = max(self.lag_ns, 1, -(-span // MAX_BUCKETS))
        n_buckets = span // width + 2
        n_groups = int(max(p_group.max(), e_group.max())) + 1
        if n_groups * n_buckets > MAX_CELLS:
            return np.ones(len(e_pos), dtype=bool)
        traded = np.zeros(n_groups * n_buckets + 1, dtype=bool)
        traded[p_group * n_buckets + (day.ts[p_pos] - first) // width] = True
        cell = e_group * n_buckets + (day.ts[e_pos] - first) // width
        return np.asarray(traded[cell] | traded[cell + 1])

    def _earliest_views(self, day: DayColumns, life: OrderLifecycle, *, cc: I64, cp: I64, pp: I64) -> I64:
        """Per pair: position of the earliest view of C by P's actor between C and P, or -1."""
        actor, account = day.coded("actor").codes, day.coded("account").codes
        n_actors = max(len(day.coded("actor")), 1)
        result = np.full(len(pp), -1, dtype=np.int64)
        # Only views of the pairs' client orders and accounts can be found: index those alone.
        wanted = np.zeros(len(life.c_pos) + 1, dtype=bool)
        wanted[cc] = True
        v_pos, v_owner = life.v_pos[wanted[life.v_owner]], life.v_owner[wanted[life.v_owner]]
        by_order = GroupIndex(v_pos, v_owner * n_actors + actor[v_pos], day.n)
        lo, hi = by_order.range(cc * n_actors + actor[pp], cp + 1, pp)
        found = lo < hi
        result[found] = by_order.positions[lo[found]]
        views = day.rows(EventKind.ORDER_VIEW)  # those naming no order, only an account
        wanted = np.zeros(len(day.coded("account")) + 1, dtype=bool)
        wanted[account[cp]] = True  # a pair's order always has an account (c_ok in scan)
        account_view = views[
            (day.coded("order_id").codes[views] < 0) & wanted[account[views]] & (actor[views] >= 0)
        ]
        viewed = account[account_view].astype(np.int64) * n_actors + actor[account_view]  # no int32 overflow
        by_account = GroupIndex(account_view, viewed, day.n)
        lo, hi = by_account.range(account[cp].astype(np.int64) * n_actors + actor[pp], cp + 1, pp)
        found = lo < hi
        candidate = (
            by_account.positions[np.minimum(lo, max(len(account_view) - 1, 0))] if len(account_view) else lo
        )
        better = found & ((result < 0) | (candidate < result))
        result[better] = candidate[better]
        return result

    def _alerts(
        self, day: DayColumns, pp: I64, ep: I64, *, cp: I64, vp: I64, handled: np.ndarray[Any, Any]
    ) -> list[Alert]:
        p_ids, e_ids, c_ids = day.event_ids(pp), day.event_ids(ep), day.event_ids(cp)
        v_ids = day.event_ids(np.maximum(vp, 0)) if len(vp) else []
        actors, symbols = day.strings("actor", pp), day.strings("symbol", pp)
        oids, sides = day.strings("order_id", cp), day.strings("side", pp)
        alerts = []
        for i in range(len(pp)):
            parts = [(int(cp[i]), c_ids[i]), (int(ep[i]), e_ids[i]), (int(pp[i]), p_ids[i])]
            if vp[i] >= 0:
                parts.append((int(vp[i]), v_ids[i]))
            alerts.append(
                self.alert(
                    actor=actors[i] or "",
                    symbol=symbols[i],
                    ts=int(day.ts[pp[i]]),
                    event_ids=tuple(x for _, x in sorted(parts)),
                    explanation=_explain(
                        actors[i] or "",
                        bool(handled[i]),
                        oids[i] or "",
                        (sides[i] or "", float(day.qty[pp[i]]), symbols[i] or ""),
                        int(day.ts[pp[i]] - day.ts[ep[i]]),
                    ),
                )
            )
        return alerts
