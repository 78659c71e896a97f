"""Client-order lifecycle over a day, vectorised: which order each execution, cancel and view belongs to.

Rules (docs/surveillance.md, "Order lifecycle"), shared with the stream:
an execution, cancel or view carrying an order id belongs to the latest
client order with that id before it. A client order stops working at the
first of: a cancel of it, the execution that brings its executed quantity to
at least its quantity, or a later client order reusing its id (an amend).
An execution after its order stopped working belongs to no order.

Nearly every order id is carried by one client order, so ownership is a
lookup by order-id code; only ids that several client orders reuse (amends)
are grouped by sorting, and that subset is small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from orderguard.domain.events import EventKind
from orderguard.surveillance.columns import F64, I32, I64, DayColumns


@dataclass(frozen=True)
class OrderLifecycle:
    """Per client order (index c): position and end; per execution/view: position and owner c."""

    c_pos: I64
    c_end: I64  # position of the event that ends the order, or n when it never ends
    e_pos: I64
    e_owner: I64
    v_pos: I64
    v_owner: I64

    @classmethod
    def of(cls, day: DayColumns) -> OrderLifecycle:
        cached = day.__dict__.get("_order_lifecycle")
        if isinstance(cached, OrderLifecycle):
            return cached
        result = cls._compute(day)
        day.__dict__["_order_lifecycle"] = result
        return result

    @classmethod
    def _compute(cls, day: DayColumns) -> OrderLifecycle:
        n = day.n
        coded = day.coded("order_id")
        codes, qty = coded.codes, day.qty

        def rows(kind: EventKind, *, with_qty: bool) -> I64:
            pos = day.rows(kind)
            keep = codes[pos] >= 0
            if with_qty:
                keep &= ~np.isnan(qty[pos])
            return pos[keep]

        owners = _Owners(codes, len(coded), rows(EventKind.CLIENT_ORDER, with_qty=True))
        end = np.full(len(owners.c_pos), n, dtype=np.int64)
        end[owners.amended] = owners.amended_by
        x_pos = rows(EventKind.ORDER_CANCEL, with_qty=False)
        x_owner = owners.of(x_pos)
        cancelled = x_owner >= 0
        np.minimum.at(end, x_owner[cancelled], x_pos[cancelled])
        e_pos = rows(EventKind.EXECUTION, with_qty=True)
        e_owner = owners.of(e_pos)
        e_pos, e_owner = e_pos[e_owner >= 0], e_owner[e_owner >= 0]
        _completions(end, e_pos, e_owner, qty, qty[owners.c_pos])
        live = e_pos <= end[e_owner]
        v_pos = rows(EventKind.ORDER_VIEW, with_qty=False)
        v_owner = owners.of(v_pos)
        viewed = v_owner >= 0
        return cls(owners.c_pos, end, e_pos[live], e_owner[live], v_pos[viewed], v_owner[viewed])


def _completions(end: I64, e_pos: I64, e_owner: I64, qty: F64, c_qty: F64) -> None:
    """end[c] = min(end[c], position of the execution that brings c's executed quantity to c's quantity).

    Nearly every order is completed, if at all, by its last execution: with positive quantities
    (intake's rule) that is the case exactly when all its executions reach the quantity and all
    but the last do not. Per-order sums (added in position order, as the stream adds them) and
    last executions need no sort; only the orders filled before their last execution
    (overfills) are sorted by owner, and every order when a quantity is not positive.
    """
    if not len(e_pos):
        return
    e_qty = qty[e_pos]
    if not bool(np.all(e_qty > 0)):
        _first_reaching(end, e_pos, e_owner, e_qty, c_qty)
        return
    executed = np.bincount(e_owner, weights=e_qty, minlength=len(end))
    last = np.full(len(end), -1, dtype=np.int64)
    np.maximum.at(last, e_owner, e_pos)  # the last execution of each order
    has = np.flatnonzero(last >= 0)
    before_last = executed[has] - qty[last[has]]
    by_last = has[(executed[has] >= c_qty[has]) & (before_last < c_qty[has])]
    end[by_last] = np.minimum(end[by_last], last[by_last])
    earlier = np.zeros(len(end), dtype=bool)
    earlier[has[before_last >= c_qty[has]]] = True
    rows = np.flatnonzero(earlier[e_owner])
    if len(rows):
        _first_reaching(end, e_pos[rows], e_owner[rows], e_qty[rows], c_qty)


def _first_reaching(end: I64, e_pos: I64, e_owner: I64, e_qty: F64, c_qty: F64) -> None:
    """end[c] = min(end[c], first position where c's running executed quantity reaches c_qty), by sorting."""
    order = np.argsort(e_owner, kind="stable")  # position order within each order
    owner, pos, amount = e_owner[order], e_pos[order], e_qty[order]
    total = np.cumsum(amount)
    first_of = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    seg = np.repeat(first_of, np.diff(np.r_[first_of, len(owner)]))
    executed = total - (total[seg] - amount[seg])
    complete = executed >= c_qty[owner]
    np.minimum.at(end, owner[complete], pos[complete])


REUSED: Final = -2  # in _Owners.only: several client orders carry this id


class _Owners:
    """Which client order (index into c_pos) an event with an order id belongs to."""

    def __init__(self, codes: I32, n_codes: int, c_pos: I64) -> None:
        self.codes, self.c_pos = codes, c_pos
        c_code = codes[c_pos]
        # Per order-id code: the index of its one client order, -1 for none, REUSED for several.
        self.only = np.full(n_codes, -1, dtype=np.int32)  # int32: half the cache lines to miss
        self.only[c_code] = np.arange(len(c_pos), dtype=np.int32)
        reused = np.bincount(c_code, minlength=n_codes)[c_code] > 1
        self.only[c_code[reused]] = REUSED
        self.reused_c = np.flatnonzero(reused)  # indices into c_pos, ascending
        order = self.reused_c[np.lexsort((c_pos[self.reused_c], c_code[self.reused_c]))]
        same = c_code[order[1:]] == c_code[order[:-1]]
        self.amended, self.amended_by = order[:-1][same], c_pos[order[1:]][same]

    def of(self, pos: I64) -> I64:
        """Owner per event position (-1: no client order with its id before it)."""
        if not len(self.c_pos) or not len(pos):
            return np.full(len(pos), -1, dtype=np.int64)
        code = self.codes[pos]
        c = self.only[code].astype(np.int64)
        owner = np.where((c >= 0) & (self.c_pos[np.maximum(c, 0)] < pos), c, -1)
        reused = np.flatnonzero(c == REUSED)
        if len(reused):
            owner[reused] = self._latest_before(pos[reused], code[reused])
        return owner

    def _latest_before(self, pos: I64, code: I32) -> I64:
        """For events whose id several client orders carry: the latest of them before each event."""
        c_pos = self.c_pos[self.reused_c]
        rows = np.concatenate([c_pos, pos])
        row_codes = np.concatenate([self.codes[c_pos], code])
        is_c = np.r_[np.ones(len(c_pos), dtype=bool), np.zeros(len(pos), dtype=bool)]
        which = np.r_[self.reused_c, np.arange(len(pos), dtype=np.int64)]
        order = np.lexsort((rows, row_codes))  # (order id, position)
        row_codes, is_c, which = row_codes[order], is_c[order], which[order]
        idx = np.arange(len(order), dtype=np.int64)
        last_c = np.maximum.accumulate(np.where(is_c, idx, -1))
        anchor = np.maximum(last_c, 0)
        owned = (last_c >= 0) & (row_codes[anchor] == row_codes)
        result = np.empty(len(pos), dtype=np.int64)
        events = ~is_c
        result[which[events]] = np.where(owned[events], which[anchor[events]], -1)
        return result
