"""front_running: an employee trades personally just ahead of, or during, a much larger client order.

A personal trade P and a client order C in the same instrument family (the
symbol or an instrument the firm relates to it) and side, with C.qty >
size_ratio x P.qty, alert when either P precedes C by at most lead_seconds
("before"), or P comes while C is working ("working": C arrived, and no
cancel, completing execution or amend of C came before P).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import I64, DayColumns, GroupIndex, expand_ranges
from orderguard.surveillance.context import seconds_to_ns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.families import family_side_groups
from orderguard.surveillance.orders import OrderLifecycle


def _explain(
    mode: str, trade: tuple[str, str, float, str], order: tuple[str, float, str], gap_ns: int
) -> str:
    """trade = (actor, side, qty, symbol); order = (order id, qty, symbol)."""
    actor, side, p_qty, p_symbol = trade
    oid, c_qty, c_symbol = order
    text = f"{actor} made a personal {side} of {p_qty:g} {p_symbol}"
    described = f"client order {oid} ({side} {c_qty:g} {c_symbol})"
    if mode == "before":
        return f"{text} {gap_ns / 1e9:.3f} s before {described} arrived: possible front running."
    return f"{text} while {described} was still working: possible front running."


class FrontRunning(Detector):
    rule: ClassVar[str] = "front_running"
    description: ClassVar[str] = "A personal trade ahead of or during a much larger client order."
    kinds: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.PERSONAL_TRADE, EventKind.CLIENT_ORDER, EventKind.EXECUTION, EventKind.ORDER_CANCEL}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.ctx.detectors.front_running
        self.lead_ns = seconds_to_ns(settings.lead_seconds)
        self.ratio = settings.size_ratio

    def initial_state(self) -> dict[str, Any]:
        return {
            "recent": {},  # (family, side) -> deque[(ts, event_id, actor, qty, symbol)]
            "working": {},  # (family, side) -> {client event_id: order record}
            # order_id -> order record [client event_id, (family, side), qty, executed, order_id, symbol]
            "orders": {},
            "swept": [0],
        }

    # -- stream -------------------------------------------------------------
    def bind_state(self) -> None:
        self._recent: dict[tuple[str, str], deque[tuple[int, str, str, float, str]]] = self.state["recent"]
        self._working: dict[tuple[str, str], dict[str, list[Any]]] = self.state["working"]
        self._orders: dict[str, list[Any]] = self.state["orders"]
        self._swept: list[int] = self.state["swept"]

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {
            EventKind.EXECUTION: self._execution,
            EventKind.ORDER_CANCEL: self._cancel,
            EventKind.CLIENT_ORDER: self._client_order,
            EventKind.PERSONAL_TRADE: self._personal_trade,
        }

    def _end(self, record: list[Any]) -> None:
        del self._orders[record[4]]
        working = self._working.get(record[1])
        if working is not None:
            working.pop(record[0], None)
            if not working:
                del self._working[record[1]]

    def _sweep(self, now: int) -> None:
        horizon = now - self.lead_ns
        recent = self._recent
        for key in list(recent):
            trades = recent[key]
            while trades and trades[0][0] < horizon:
                trades.popleft()
            if not trades:
                del recent[key]
        self._swept[0] = now

    def _execution(self, event: Event) -> Sequence[Alert]:
        record = self._orders.get(event.order_id)  # type: ignore[arg-type]
        if record is not None and event.qty is not None:
            record[3] += event.qty
            if record[3] >= record[2]:
                self._end(record)
        return NO_ALERTS

    def _cancel(self, event: Event) -> Sequence[Alert]:
        record = self._orders.get(event.order_id)  # type: ignore[arg-type]
        if record is not None:
            self._end(record)
        return NO_ALERTS

    def _client_order(self, event: Event) -> Sequence[Alert]:
        symbol, side, qty, order_id = event.symbol, event.side, event.qty, event.order_id
        if symbol is None or side is None or qty is None or order_id is None:
            return NO_ALERTS
        ts = event.ts
        if ts - self._swept[0] > self.lead_ns:
            self._sweep(ts)
        key = self.ctx.family_side(symbol, side)
        alerts = NO_ALERTS
        trades = self._recent.get(key)
        if trades:
            horizon = ts - self.lead_ns
            for p_ts, p_id, p_actor, p_qty, p_symbol in trades:
                if p_ts >= horizon and qty > self.ratio * p_qty:
                    alerts += (
                        self.alert(
                            actor=p_actor,
                            symbol=p_symbol,
                            ts=ts,
                            event_ids=(p_id, event.event_id),
                            explanation=_explain(
                                "before",
                                (p_actor, key[1], p_qty, p_symbol),
                                (order_id, qty, symbol),
                                ts - p_ts,
                            ),
                        ),
                    )
        previous = self._orders.get(order_id)
        if previous is not None:
            self._end(previous)
        record = [event.event_id, key, qty, 0.0, order_id, symbol]
        self._orders[order_id] = record
        working = self._working.get(key)
        if working is None:
            working = self._working[key] = {}
        working[event.event_id] = record
        return alerts

    def _personal_trade(self, event: Event) -> Sequence[Alert]:
        symbol, side, qty = event.symbol, event.side, event.qty
        if symbol is None or side is None or qty is None:
            return NO_ALERTS
        ts = event.ts
        if ts - self._swept[0] > self.lead_ns:
            self._sweep(ts)
        key = self.ctx.family_side(symbol, side)
        alerts = NO_ALERTS
        bound = self.ratio * qty
        for c_id, record in self._working.get(key, {}).items():
            if record[2] > bound:
                alerts += (
                    self.alert(
                        actor=event.actor,
                        symbol=symbol,
                        ts=ts,
                        event_ids=(c_id, event.event_id),
                        explanation=_explain(
                            "working",
                            (event.actor, key[1], qty, symbol),
                            (record[4], record[2], record[5]),
                            0,
                        ),
                    ),
                )
        trades = self._recent.get(key)
        if trades is None:
            trades = self._recent[key] = deque()
        trades.append((ts, event.event_id, event.actor, qty, symbol))
        return alerts

    # -- batch --------------------------------------------------------------
    def scan(self, day: DayColumns) -> list[Alert]:
        life = OrderLifecycle.of(day)
        groups = family_side_groups(day, self.ctx)
        p_pos = day.rows(EventKind.PERSONAL_TRADE)
        p_pos = p_pos[(groups[p_pos] >= 0) & ~np.isnan(day.qty[p_pos])]
        c_pos, c_end = life.c_pos, life.c_end
        # A client order can match only if it is more than ratio x the smallest personal trade of
        # its family and side: that necessary condition drops most orders before any search.
        smallest = np.full(int(groups.max(initial=-1)) + 2, np.inf)
        np.minimum.at(smallest, groups[p_pos], day.qty[p_pos])
        c_ok = (groups[c_pos] >= 0) & (day.qty[c_pos] > self.ratio * smallest[groups[c_pos]])
        c_pos, c_end = c_pos[c_ok], c_end[c_ok]
        index = GroupIndex(p_pos, groups[p_pos], day.n)
        c_group = groups[c_pos]
        # before: P in [C.ts - lead, C)
        lo, hi = index.range(c_group, day.positions_from(day.ts[c_pos] - self.lead_ns), c_pos)
        before = self._pairs(day, index, c_pos, lo, hi)
        # working: P in (C, end of C)
        lo, hi = index.range(c_group, c_pos + 1, c_end)
        working = self._pairs(day, index, c_pos, lo, hi)
        return self._alerts(day, before, "before") + self._alerts(day, working, "working")

    def _pairs(self, day: DayColumns, index: GroupIndex, c_pos: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
        query, member = expand_ranges(lo, hi)
        cp, pp = c_pos[query], index.positions[member]
        keep = day.qty[cp] > self.ratio * day.qty[pp]
        return cp[keep], pp[keep]

    def _alerts(self, day: DayColumns, pairs: tuple[I64, I64], mode: str) -> list[Alert]:
        cp, pp = pairs
        c_ids, p_ids = day.event_ids(cp), day.event_ids(pp)
        actors, p_symbols = day.strings("actor", pp), day.strings("symbol", pp)
        c_symbols, oids, sides = (
            day.strings("symbol", cp),
            day.strings("order_id", cp),
            day.strings("side", pp),
        )
        alerts = []
        for i in range(len(cp)):
            c, p = int(cp[i]), int(pp[i])
            ids = (p_ids[i], c_ids[i]) if mode == "before" else (c_ids[i], p_ids[i])
            alerts.append(
                self.alert(
                    actor=actors[i] or "",
                    symbol=p_symbols[i],
                    ts=int(max(day.ts[c], day.ts[p])),
                    event_ids=ids,
                    explanation=_explain(
                        mode,
                        (actors[i] or "", sides[i] or "", float(day.qty[p]), p_symbols[i] or ""),
                        (oids[i] or "", float(day.qty[c]), c_symbols[i] or ""),
                        int(day.ts[c] - day.ts[p]) if mode == "before" else 0,
                    ),
                )
            )
        return alerts
