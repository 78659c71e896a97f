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
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cedarpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.controls_support import T0, make_stack
from tests.controls_support import order as ticket

from orderguard.approvals.model import SensitiveAction
from orderguard.config import load_config
from orderguard.domain import Side
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import ControlsStack
from orderguard.policy.context import order_context

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 orders")
    args = parser.parse_args()
    count = 2_000 if args.quick else args.orders

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
    print(f"orders: {count:,}; decisions: {mix}")
    print(f"memo entries after the run: {len(authorizer._memo)}")
    print()
    print("| measurement | orders | p50 us | p99 us | mean us |")
    print("|---|---:|---:|---:|---:|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
