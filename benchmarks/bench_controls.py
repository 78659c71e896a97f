"""Controls: the full in-process check for one order, against Cedar alone as the baseline.

Run: .venv/bin/python benchmarks/bench_controls.py [--orders 20000] [--quick]

Orders mix the example firm's traders and desks, approved and unapproved venues, 5 % large
orders (each with an open, approved request) and 5 % personal trades (each pre-cleared), with
1,000 working client orders in the pre-clearance book. Rows:

* cedar (is_authorized, no memo): one cedarpy call per order with the order's context: the baseline.
* cedar is_authorized_batch: 64 requests per call, time per order.
* cedar (memoised): the same decision through the authorizer's memo (context built per order).
* full check, cold memo: authorize + SoD + approval state + venue allowlist + pre-clearance with the
  memo cleared before every order, i.e. one real Cedar call per order.
* full check: the same with the memo warm, as in steady state.
* gate (check + audit append + effects): ``ControlsGate.submit`` over an in-memory audit sink.
* gate, SQL control state (SQLite): the same with ``build_controls(..., engine=URL)`` on a migrated
  SQLite file (WAL, synchronous=FULL): approvals, the blackout book, clearances and positions are
  written through, one transaction per change. The audit sink stays in memory to isolate that cost.
* restart: ``build_controls`` over that database after the run (loads the role and venue journals,
  the blackout book, open clearances and positions).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cedarpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.controls_support import T0, Collected, MemoryAuditSink, make_stack
from tests.controls_support import order as ticket

from orderguard.approvals.model import SensitiveAction
from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig, load_config
from orderguard.domain import AuditSink, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import ControlsStack, build_controls
from orderguard.policy.context import order_context
from orderguard.storage.migrate import upgrade

FIRM = Path(__file__).resolve().parent.parent / "examples" / "firm.toml"
SYMBOLS = [f"SYM{i:02d}" for i in range(50)] + ["AAPL", "MSFT"]


def build_orders(stack: ControlsStack, count: int, seed: int = 7) -> list[OrderTicket]:
    """A reproducible order mix, with approvals and clearances in place for the orders that need them."""
    rng = random.Random(seed)
    accounts = {"alice": "C-PENSION-1", "bob": "C-HEDGE-1", "tom": "C-FAMILY-1"}
    for i in range(1_000):
        stack.preclearance.client_order(
            f"W-{i}", rng.choice(SYMBOLS), rng.choice(["equities", "derivatives"]), T0
        )
    orders = []
    for i in range(count):
        roll = rng.random()
        ts = T0 + i * 1_000_000  # 1 ms apart: all inside business hours
        symbol = rng.choice(SYMBOLS)
        if roll < 0.05:  # large order with its quorum
            t = ticket(f"L-{i}", actor="alice", qty=10_000 + i, price=200.0, symbol=symbol, ts=ts)
            _, request = stack.approvals.open(
                SensitiveAction.LARGE_ORDER, t.order_id, "alice", t.approval_content(), T0
            )
            assert request is not None
            stack.approvals.approve(request.id, "carol", request.digest, T0)
        elif roll < 0.10:  # personal trade, pre-cleared, in a symbol nobody on the desk-less dev can see
            t = ticket(f"P-{i}", actor="dana", account="PA-dana", symbol=f"PERS{i}", qty=10, ts=ts)
            stack.preclearance.request("dana", "PA-dana", symbol=t.symbol, side=Side.BUY, qty=10, now=T0)
        else:
            actor = rng.choice(["alice", "bob", "tom", "dana", "adam"])
            venue = rng.choice(["XNYS", "XNAS", "ARCX", "XNYS", "DARK-X"])
            account = accounts.get(actor, "C-PENSION-1")
            t = ticket(
                f"O-{i}",
                actor=actor,
                account=account,
                venue=venue,
                symbol=symbol,
                qty=rng.randint(1, 4_000),
                price=rng.choice([10.0, 55.5, 120.25]),
                ts=ts,
            )
        orders.append(t)
    return orders


def timed(fn: Callable[[OrderTicket], object], orders: list[OrderTicket]) -> list[int]:
    samples = []
    clock = time.perf_counter_ns
    for o in orders:
        start = clock()
        fn(o)
        samples.append(clock() - start)
    return samples


def row(name: str, samples: list[int]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] / 1_000
    p99 = ordered[int(len(ordered) * 0.99)] / 1_000
    mean = statistics.fmean(ordered) / 1_000
    return f"| {name} | {len(samples):,} | {p50:.1f} | {p99:.1f} | {mean:.1f} |"


def sql_stack(firm: FirmConfig, url: str, audit: AuditSink | None = None) -> ControlsStack:
    sinks = Collected()
    sink = audit or MemoryAuditSink()
    return build_controls(firm, sink, notifications=sinks, events=sinks, alerts=sinks, engine=url)


def sql_rows(firm: FirmConfig, count: int) -> list[str]:
    """The gate over SQL-backed control state on a fresh SQLite file, then a restart over it."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/controls.db"
        upgrade(url)
        stack = sql_stack(firm, url)
        orders = build_orders(stack, count)
        gate = timed(stack.gate.submit, orders)
        restarts = []
        for _ in range(5):
            start = time.perf_counter_ns()
            sql_stack(firm, url)
            restarts.append(time.perf_counter_ns() - start)
        stack.preclearance.store.engine.dispose()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/audited.db"
        upgrade(url)
        with AuditLog(url) as log:
            memory_state = build_controls(
                firm, log, notifications=Collected(), events=Collected(), alerts=Collected()
            )
            durable_audit = timed(memory_state.gate.submit, build_orders(memory_state, count))
            both = sql_stack(firm, url, log)
            durable_both = timed(both.gate.submit, build_orders(both, count))
            both.preclearance.store.engine.dispose()  # type: ignore[attr-defined]
    return [
        row("gate, durable audit log (SQLite), in-memory state", durable_audit),
        row("gate, durable audit log + SQL control state (same SQLite file)", durable_both),
        row("gate, SQL control state (SQLite file, fsync per change), in-memory audit", gate),
        row(f"restart: build_controls over that database ({count + 1_000:,} orders booked)", restarts),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 orders")
    parser.add_argument("--sql-orders", type=int, default=5_000, help="orders for the SQL-backed gate")
    args = parser.parse_args()
    count = 2_000 if args.quick else args.orders
    sql_count = 500 if args.quick else args.sql_orders

    firm = load_config(FIRM)
    stack, _, _ = make_stack(firm)
    orders = build_orders(stack, count)
    controls, authorizer = stack.controls, stack.authorizer
    accounts = controls.accounts

    def context_of(o: OrderTicket) -> dict[str, object]:
        return order_context(
            accounts[o.account],
            venue=o.venue,
            venue_approved=o.venue in stack.venues,
            business_hours=True,
            large=o.notional > controls.large_notional,
            quorum_met=True,
        )

    def cedar_only(o: OrderTicket) -> object:
        return authorizer.evaluate(o.actor, "submit_order", "Order", context_of(o))

    def cedar_memo(o: OrderTicket) -> object:
        return authorizer.authorize(o.actor, "submit_order", "Order", context_of(o))

    def cedar_batch(batch: list[OrderTicket]) -> list[int]:
        """Per-order time of is_authorized_batch over groups of 64 requests."""
        requests = [
            {
                "principal": {"type": "User", "id": o.actor},
                "action": {"type": "Action", "id": "submit_order"},
                "resource": {"type": "Order", "id": "order"},
                "context": context_of(o),
            }
            for o in batch
        ]
        samples = []
        for i in range(0, len(requests), 64):
            group = requests[i : i + 64]
            start = time.perf_counter_ns()
            cedarpy.is_authorized_batch(group, authorizer.policies, authorizer._entities)
            samples.extend([(time.perf_counter_ns() - start) // len(group)] * len(group))
        return samples

    def cold_check(o: OrderTicket) -> object:
        authorizer._memo.clear()
        return controls.check(o)

    outcomes = [controls.check(o).decision.reason.value for o in orders]
    mix = {reason: outcomes.count(reason) for reason in sorted(set(outcomes))}
    gc.collect()
    rows = [
        row("cedar (is_authorized, no memo) - baseline", timed(cedar_only, orders)),
        row("cedar is_authorized_batch (64/call), per order", cedar_batch(orders)),
        row("cedar (memoised, context built per order)", timed(cedar_memo, orders)),
        row("full check, cold memo (1 Cedar call/order)", timed(cold_check, orders)),
        row("full check (authorize+SoD+approvals+venue+pre-clearance)", timed(controls.check, orders)),
    ]
    gate_stack, _, _ = make_stack(firm)
    gate_orders = build_orders(gate_stack, count)
    rows.append(
        row("gate: check + audit append (in memory) + effects", timed(gate_stack.gate.submit, gate_orders))
    )
    small_stack, _, _ = make_stack(firm)
    small_orders = build_orders(small_stack, sql_count)
    rows.append(
        row(
            f"gate, in-memory state, first {sql_count:,} orders (baseline for the SQL row)",
            timed(small_stack.gate.submit, small_orders),
        )
    )
    rows.extend(sql_rows(firm, sql_count))
    print(f"orders: {count:,}; decisions: {mix}")
    print(f"memo entries after the run: {len(authorizer._memo)}")
    print()
    print("| measurement | orders | p50 us | p99 us | mean us |")
    print("|---|---:|---:|---:|---:|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
