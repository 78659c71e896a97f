"""copy_trading: an employee who handled or viewed a client order trades the same way right after it fills.

A personal trade P, a client order C in the same instrument family and side,
and E, the latest execution of C before P, alert when P.ts - E.ts <= lag and
the trader handled C (C.actor == P.actor) or viewed it between C and P (a
view of C's order id, or a view of C's account that names no order). The
alert names C, the earliest such view V (if any), E and P.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import BOOL, I64, DayColumns, GroupIndex, expand_ranges
from orderguard.surveillance.context import seconds_to_ns
from orderguard.surveillance.detector import Detector
from orderguard.surveillance.families import family_side_groups
from orderguard.surveillance.orders import OrderLifecycle

# Bounds of _reachable's (family and side) x time-bucket table of personal trades.
MAX_BUCKETS: Final = 4096
MAX_CELLS: Final = 1 << 24

# Stream record of one client order (a list, so a snapshot holds builtins only).
C_ID, C_POS, C_ACTOR, C_ACCOUNT, C_KEY, C_QTY, C_EXECUTED, C_WORKING, C_LAST, C_VIEWERS, C_OID = range(11)


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
            "clock": 0,
            "orders": {},  # order_id -> record of the latest client order with that id
            "by_account": {},  # account -> {client event_id: record} of orders still tracked
            "filled": {},  # (family, side) -> {client event_id: record} with an execution
            "swept": 0,
        }

    # -- stream -------------------------------------------------------------
    def _forget(self, record: list[Any]) -> None:
        by_account = self.state["by_account"]
        orders = by_account.get(record[C_ACCOUNT], {})
        orders.pop(record[C_ID], None)
        if not orders:
            by_account.pop(record[C_ACCOUNT], None)
        if self.state["orders"].get(record[C_OID]) is record:
            del self.state["orders"][record[C_OID]]
        filled = self.state["filled"].get(record[C_KEY], {})
        filled.pop(record[C_ID], None)
        if not filled:
            self.state["filled"].pop(record[C_KEY], None)

    def _stop(self, record: list[Any]) -> None:
        record[C_WORKING] = False
        if record[C_LAST] is None:
            self._forget(record)

    def _sweep(self, now: int) -> None:
        horizon = now - self.lag_ns
        for filled in list(self.state["filled"].values()):
            for record in list(filled.values()):
                if record[C_LAST][1] < horizon:
                    if record[C_WORKING]:
                        del filled[record[C_ID]]
                    else:
                        self._forget(record)
        for key in [k for k, v in self.state["filled"].items() if not v]:
            del self.state["filled"][key]
        self.state["swept"] = now

    def observe(self, event: Event) -> list[Alert]:
        self.state["clock"] += 1
        if event.ts - self.state["swept"] > self.lag_ns:
            self._sweep(event.ts)
        kind = event.kind
        if kind is EventKind.CLIENT_ORDER:
            self._client_order(event)
        elif kind is EventKind.EXECUTION or kind is EventKind.ORDER_CANCEL:
            record = self.state["orders"].get(event.order_id or "")
            if record is None or not record[C_WORKING]:
                return []
            if kind is EventKind.ORDER_CANCEL:
                self._stop(record)
            elif event.qty is not None:
                record[C_EXECUTED] += event.qty
                record[C_LAST] = (event.event_id, event.ts, self.state["clock"])
                self.state["filled"].setdefault(record[C_KEY], {})[record[C_ID]] = record
                if record[C_EXECUTED] >= record[C_QTY]:
                    self._stop(record)
        elif kind is EventKind.ORDER_VIEW:
            self._view(event)
        elif kind is EventKind.PERSONAL_TRADE:
            return self._personal_trade(event)
        return []

    def _client_order(self, event: Event) -> None:
        if event.order_id is None or event.qty is None:
            return
        previous = self.state["orders"].get(event.order_id)
        if previous is not None and previous[C_WORKING]:
            self._stop(previous)
        if event.symbol is None or event.side is None or event.account is None:
            return
        key = (self.ctx.family(event.symbol), event.side.value)
        record: list[Any] = [
            event.event_id,
            self.state["clock"],
            event.actor,
            event.account,
            key,
            event.qty,
            0.0,
            True,
            None,
            {},
            event.order_id,
        ]
        self.state["orders"][event.order_id] = record
        self.state["by_account"].setdefault(event.account, {})[event.event_id] = record

    def _view(self, event: Event) -> None:
        seen = (event.event_id, self.state["clock"])
        if event.order_id is not None:
            record = self.state["orders"].get(event.order_id)
            if record is not None:
                record[C_VIEWERS].setdefault(event.actor, seen)
        elif event.account is not None:
            for record in self.state["by_account"].get(event.account, {}).values():
                record[C_VIEWERS].setdefault(event.actor, seen)

    def _personal_trade(self, event: Event) -> list[Alert]:
        if event.symbol is None or event.side is None or event.qty is None:
            return []
        key = (self.ctx.family(event.symbol), event.side.value)
        horizon = event.ts - self.lag_ns
        alerts = []
        for record in self.state["filled"].get(key, {}).values():
            last_id, last_ts, last_pos = record[C_LAST]
            if last_ts < horizon:
                continue
            handled = record[C_ACTOR] == event.actor
            view = record[C_VIEWERS].get(event.actor)
            if not handled and view is None:
                continue
            parts = [
                (record[C_POS], record[C_ID]),
                (last_pos, last_id),
                (self.state["clock"], event.event_id),
            ]
            if view is not None:
                parts.append((view[1], view[0]))
            alerts.append(
                self.alert(
                    actor=event.actor,
                    symbol=event.symbol,
                    ts=event.ts,
                    event_ids=tuple(i for _, i in sorted(parts)),
                    explanation=_explain(
                        event.actor,
                        handled,
                        record[C_OID],
                        (key[1], event.qty, event.symbol),
                        event.ts - last_ts,
                    ),
                )
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
