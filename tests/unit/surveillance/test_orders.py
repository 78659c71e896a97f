"""The vectorised order lifecycle agrees with the rules of docs/surveillance.md walked event by event."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.orders import OrderLifecycle, _completions, _first_reaching
from tests.unit.surveillance.helpers import Events, table_of

ORDER_IDS = ["o1", "o2", "o3"]
# (kind, order id, quantity): a small id pool makes amends (reused ids), overfills and stray fills common.
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["order", "fill", "cancel", "view"]),
        st.sampled_from(ORDER_IDS),
        st.sampled_from([1.0, 2.0, 3.0, 5.0, 8.0]),
    ),
    max_size=30,
)


def _events(steps: list[tuple[str, str, float]]) -> list[Event]:
    events = Events()
    for i, (kind, oid, qty) in enumerate(steps):
        at = i // 2  # pairs of events share a timestamp: seq breaks the tie
        if kind == "order":
            events.order(at, "T-1", oid, "AAPL", side="buy", qty=qty)
        elif kind == "fill":
            events.execution(at, oid, "AAPL", "buy", qty)
        elif kind == "cancel":
            events.add(EventKind.ORDER_CANCEL, at, "T-1", order_id=oid)
        else:
            events.view(at, "T-2", order_id=oid)
    return events.events


def _walk(events: list[Event]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """The documented rules, one event at a time: order end, execution owner and view owner by position."""
    ends: dict[int, int] = {}
    latest: dict[str, int] = {}  # order id -> position of its latest client order
    executed: dict[int, float] = {}
    quantity: dict[int, float] = {}
    exec_owner: dict[int, int] = {}
    view_owner: dict[int, int] = {}
    for pos, event in enumerate(events):
        oid = event.order_id or ""
        owner = latest.get(oid)
        if event.kind is EventKind.CLIENT_ORDER:
            if owner is not None:
                ends.setdefault(owner, pos)  # an amend ends the order it replaces
            latest[oid], executed[pos], quantity[pos] = pos, 0.0, event.qty or 0.0
        elif owner is None:
            continue
        elif event.kind is EventKind.ORDER_VIEW:
            view_owner[pos] = owner
        elif owner not in ends:
            if event.kind is EventKind.ORDER_CANCEL:
                ends[owner] = pos
            else:
                exec_owner[pos] = owner
                executed[owner] += event.qty or 0.0
                if executed[owner] >= quantity[owner]:
                    ends[owner] = pos
    return ends, exec_owner, view_owner


class TestOrderLifecycle:
    @settings(max_examples=150, deadline=None)
    @given(steps=STEPS)
    def test_matches_the_documented_rules(self, steps: list[tuple[str, str, float]]) -> None:
        """Ends (cancel, completing fill, amend) and execution and view owners equal a walk of the events."""
        events = _events(steps)
        if not events:
            return
        day = DayColumns.from_table(table_of(events))
        life = OrderLifecycle.of(day)
        ends, exec_owner, view_owner = _walk(events)
        c_pos = life.c_pos.tolist()
        assert {c: e for c, e in zip(c_pos, life.c_end.tolist(), strict=True) if e < day.n} == ends
        assert dict(zip(life.e_pos.tolist(), [c_pos[c] for c in life.e_owner.tolist()], strict=True)) == (
            exec_owner
        )
        assert dict(zip(life.v_pos.tolist(), [c_pos[c] for c in life.v_owner.tolist()], strict=True)) == (
            view_owner
        )

    def test_an_overfilled_order_ends_at_the_fill_that_reaches_its_quantity(self) -> None:
        """An order filled by its second of three executions ends there, not at its last execution."""
        events = Events()
        events.order(0, "T-1", "o1", "AAPL", side="buy", qty=10)
        for at, qty in ((1, 4), (2, 6), (3, 5)):
            events.execution(at, "o1", "AAPL", "buy", qty)
        life = OrderLifecycle.of(DayColumns.from_table(table_of(events.events)))
        assert life.c_end.tolist() == [2]
        assert life.e_pos.tolist() == [1, 2]  # the third execution belongs to no order


class TestCompletions:
    @settings(max_examples=150, deadline=None)
    @given(
        fills=st.lists(
            st.tuples(st.integers(0, 4), st.sampled_from([-3.0, 0.0, 1.0, 2.0, 4.0])), min_size=1, max_size=40
        ),
        wanted=st.lists(st.sampled_from([-1.0, 0.0, 1.0, 3.0, 6.0]), min_size=5, max_size=5),
    )
    def test_shortcut_equals_sorting(self, fills: list[tuple[int, float]], wanted: list[float]) -> None:
        """The by-last-execution path gives the sorting path's ends, also for non-positive quantities."""
        owner = np.array([o for o, _ in fills], dtype=np.int64)
        pos = np.arange(len(fills), dtype=np.int64)
        qty = np.array([q for _, q in fills], dtype=np.float64)
        c_qty = np.array(wanted, dtype=np.float64)
        fast, slow = np.full(5, 99, dtype=np.int64), np.full(5, 99, dtype=np.int64)
        _completions(fast, pos, owner, qty, c_qty)
        _first_reaching(slow, pos, owner, qty, c_qty)
        assert fast.tolist() == slow.tolist()
