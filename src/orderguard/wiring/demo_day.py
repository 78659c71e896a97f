"""The demo's trading day, run through every stage.

A simulated day (with planted insider scenarios when ``orderguard.sim.scenarios`` exists) is stored
as events; its client orders and personal trades go through the controls gate (large orders get a
second approver first, personal trades ask for pre-clearance first) and, when the gate says go,
through the sealed execution path; a sample of order views goes through need-to-know. Then live
surveillance (when the context has it) observes the stored events up to the demo clock's "now",
the batch surveillance engine scans them all, and the case desk opens cases: an alert both
engines find is stored once. The simulated day's orders are stored as events already, so the
desk does not emit them again; the scripted orders (not in the simulated day) reach the event
store through the desk, as live orders do. A few large orders are left awaiting a second
approver, for the approvals inbox.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from orderguard.app import AppContext
from orderguard.approvals.model import SensitiveAction
from orderguard.domain import AccountType, Event, EventKind, Role, Side
from orderguard.gateway.orders import OrderTicket

DEMO_DATE = dt.date(2026, 11, 20)  # a Friday: inside the example firm's business week
SECOND = 1_000_000_000
DEFAULT_PRICE = 100.0
VIEW_SAMPLE = 25


@dataclass
class DemoSummary:
    """What the demo day did, counted for the summary table."""

    events: int = 0  # stored: the day before (habits for baselines) + the demo day with its planted events
    day_events: int = 0  # of which the demo day's
    planted_scenarios: int = 0
    orders: int = 0
    accepted: int = 0
    executed: int = 0
    at_broker: int = 0  # pre-cleared personal trades: accepted, then run at the employee's own broker
    connector_refused: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    approvals_granted: int = 0
    approvals_pending: int = 0
    preclearance: Counter[str] = field(default_factory=Counter)
    views: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    gate_alerts: int = 0  # raised by the controls gate at order entry (a venue off the allowlist)
    live_alerts: int | None = None  # raised by live surveillance (None: it is off)
    batch_alerts: int = 0  # new alerts the batch scan added after the live stage's
    cases: int = 0
    stages: list[str] = field(default_factory=list)


def demo_tables(ctx: AppContext, events: int, seed: int) -> tuple[list[pa.Table], int]:
    """The day before (habits, for baselines) and the demo day with planted scenarios."""
    from orderguard.sim import generate_day
    from orderguard.sim.scenarios import plant, plant_history

    day = generate_day(events=events, seed=seed, date=DEMO_DATE, firm=ctx.config)
    before = generate_day(events=events, seed=seed, date=DEMO_DATE - dt.timedelta(days=1), firm=ctx.config)
    planted = plant(day)
    return [plant_history(before).table, planted.table], len({label.scenario for label in planted.labels})


def run_demo_day(
    ctx: AppContext, *, events: int = 2_000, seed: int = 1, progress: Callable[[str], None] = print
) -> DemoSummary:
    from orderguard.ingest import EventBatch

    summary = DemoSummary()
    tables, summary.planted_scenarios = demo_tables(ctx, events, seed)
    summary.stages.append("sim (planted scenarios)" if summary.planted_scenarios else "sim")
    progress(f"storing {sum(t.num_rows for t in tables):,} events")
    ctx.events.append_batches(tables)
    summary.events = sum(t.num_rows for t in tables)
    summary.day_events = tables[-1].num_rows
    summary.stages.append("events store")
    day = EventBatch(tables[-1])
    progress("running orders, approvals, pre-clearance and views through the controls")
    _through_controls(ctx, day.iter_events(), summary)
    summary.stages += ["controls gate", "approvals", "pre-clearance", "audit log"]
    if ctx.execution is not None:
        summary.stages.append("sealed execution + venue simulator")
    _scripted_orders(ctx, summary)
    _pending_approvals(ctx, summary)
    summary.gate_alerts = len(ctx.cases.store.alerts())
    if ctx.live is not None:
        # As in the server: the stream engine observes the stored events in (ts, seq) order up to
        # the demo clock's now; events stamped later on the simulated day wait for the live clock.
        progress("running live surveillance over the stored events")
        ctx.event_sink.flush()
        before = ctx.live.alerts_raised
        ctx.live.catch_up()
        summary.live_alerts = ctx.live.alerts_raised - before
        summary.stages.append("surveillance (live)")
    progress("running the batch surveillance engine")
    summary.batch_alerts = len(ctx.surveil().stored)  # alerts the live stage raised are not stored twice
    summary.stages += ["surveillance (batch)", "cases"]
    summary.alerts = Counter(stored.alert.rule for stored in ctx.cases.store.alerts())
    summary.cases = len(ctx.cases.store.cases())
    ctx.verify_audit()
    return summary


def _ticket(event: Event, venue: str | None = None) -> OrderTicket:
    assert event.symbol is not None
    assert event.side is not None
    assert event.qty is not None
    return OrderTicket(
        order_id=event.order_id or event.event_id,
        actor=event.actor,
        account=event.account or "",
        symbol=event.symbol,
        side=event.side,
        qty=event.qty,
        price=event.price if event.price is not None else DEFAULT_PRICE,
        venue=venue or event.venue or "XNYS",
        ts=event.ts,
        ip=event.ip,
        session_id=event.session_id,
    )


def second_approver(ctx: AppContext, actor: str) -> str | None:
    for principal in ctx.controls.directory.holders({Role.ORDER_APPROVER}):
        if principal.id != actor:
            return principal.id
    return None


def _through_controls(ctx: AppContext, events: object, summary: DemoSummary) -> None:
    controls = ctx.controls
    accounts = ctx.config.accounts()
    large = ctx.config.controls.large_order_notional
    views = 0
    assert hasattr(events, "__iter__")
    for event in events:
        if event.kind is EventKind.CLIENT_ORDER:
            ticket = _ticket(event)
            if ticket.notional > large:
                _approve_large(ctx, ticket, summary)
            _submit(ctx, ticket, summary, emit_events=False)
        elif event.kind is EventKind.PERSONAL_TRADE and event.account in accounts:
            if accounts[event.account].type is AccountType.PERSONAL:
                ticket = _ticket(event)
                decision, _ = controls.preclearance.request(
                    event.actor,
                    ticket.account,
                    symbol=ticket.symbol,
                    side=ticket.side,
                    qty=ticket.qty,
                    now=ticket.ts - SECOND,
                )
                summary.preclearance[decision.reason.value] += 1
                _submit(ctx, ticket, summary, emit_events=False, personal=True)
        elif event.kind is EventKind.ORDER_VIEW and event.order_id and views < VIEW_SAMPLE:
            booked = ctx.book.get(event.order_id)
            if booked is not None:
                views += 1
                decision, _ = controls.views.view(event.actor, booked.ticket, event.ts, ip=event.ip)
                summary.views[decision.reason.value] += 1


def _approve_large(
    ctx: AppContext, ticket: OrderTicket, summary: DemoSummary, *, by_self: bool = False
) -> None:
    """Ask for the large order's approval a minute before it is entered; a second approver (or,
    ``by_self``, the trader, whom the engine refuses) approves it half a minute later."""
    engine = ctx.controls.approvals
    _decision, request = engine.open(
        SensitiveAction.LARGE_ORDER,
        ticket.order_id,
        ticket.actor,
        ticket.approval_content(),
        ticket.ts - 60 * SECOND,
    )
    approver = ticket.actor if by_self else second_approver(ctx, ticket.actor)
    if request is None or approver is None:
        return
    if engine.approve(request.id, approver, request.digest, ticket.ts - 30 * SECOND).allowed:
        summary.approvals_granted += 1


def _known(ctx: AppContext, actor: str, account: str) -> bool:
    """Whether a scripted order's trader and account exist in this firm (another firm file may lack them)."""
    return ctx.controls.directory.get(actor) is not None and account in ctx.config.accounts()


def _submit(
    ctx: AppContext,
    ticket: OrderTicket,
    summary: DemoSummary,
    *,
    emit_events: bool = True,
    personal: bool = False,
) -> None:
    """Enter ``ticket`` through the desk; ``emit_events=False`` for the simulated day's own orders,
    whose events (and fills) are stored already: the desk must not store them a second time.
    ``personal`` for an employee's personal trade, which is not executed here once accepted."""
    outcome = ctx.orders.submit(ticket, emit_events=emit_events)
    summary.orders += 1
    if outcome.accepted:
        summary.accepted += 1
        summary.executed += bool(outcome.executions)
        summary.at_broker += personal and not outcome.executions
        booked = ctx.book.get(ticket.order_id)
        # A personal trade stays "accepted" with reason ALLOWED: it runs at the employee's broker.
        refused = booked is not None and booked.status == "accepted" and booked.reason != "ALLOWED"
        if refused and booked is not None and ctx.execution is not None:
            summary.connector_refused[booked.reason] += 1
    else:
        summary.blocked[outcome.decision.reason.value] += 1


def _pending_approvals(ctx: AppContext, summary: DemoSummary) -> None:
    """Large orders entered "now" on the demo clock, each awaiting a second approver in the inbox."""
    now = ctx.clock()
    for n, (actor, account, symbol, qty, price) in enumerate(
        (("alice", "C-PENSION-1", "MSFT", 5_000, 410.0), ("bob", "C-HEDGE-1", "NVDA", 12_000, 131.5)), 1
    ):
        if not _known(ctx, actor, account):
            continue
        ticket = OrderTicket(f"DEMO-LARGE-{n}", actor, account, symbol, Side.BUY, qty, price, "XNYS", now)
        _, request = ctx.controls.approvals.open(
            SensitiveAction.LARGE_ORDER, ticket.order_id, actor, ticket.approval_content(), now
        )
        summary.approvals_pending += request is not None


def _scripted_orders(ctx: AppContext, summary: DemoSummary) -> None:
    """The controls' stories on the demo day: four-eyes, self-approval, a dark venue, a developer."""
    at = int(
        dt.datetime.combine(DEMO_DATE, dt.time(14, 0), tzinfo=ctx.config.business_hours.zone).timestamp()
    )
    base = at * SECOND
    stories = [
        ("DAY-LARGE-1", "alice", "C-PENSION-1", "AAPL", 8_000, 190.0, "XNYS", "second"),
        ("DAY-LARGE-2", "bob", "C-HEDGE-1", "MSFT", 3_000, 415.0, "XNAS", "second"),
        ("DAY-LARGE-3", "alice", "C-HEDGE-2", "AMZN", 9_000, 180.0, "XNYS", "self"),
        ("DAY-LARGE-4", "bob", "C-PENSION-1", "GOOG", 7_000, 170.0, "XNYS", "none"),
        ("DAY-DARK-1", "alice", "C-PENSION-1", "IBM", 200, 210.0, "DARK-X", "none"),
        ("DAY-DEV-1", "dana", "C-PENSION-1", "IBM", 100, 210.0, "XNYS", "none"),
    ]
    for n, (order_id, actor, account, symbol, qty, price, venue, approval) in enumerate(stories):
        if not _known(ctx, actor, account):
            continue
        ts = base + n * 60 * SECOND
        ticket = OrderTicket(order_id, actor, account, symbol, Side.BUY, qty, price, venue, ts)
        if approval != "none":
            _approve_large(ctx, ticket, summary, by_self=approval == "self")
        _submit(ctx, ticket, summary)
