"""Reference prices on the order path: what the session-4 store and rule cost per order.

Run: .venv/bin/python benchmarks/bench_reference_prices.py [--orders 20000] [--quick]

Orders are SELLs (the only side that looks a reference up) over 52 symbols, half of them with a
stored market price, on the example firm. Rows, per order:

* notional, session-3 code (baseline): the code at git HEAD (``git show``), ``ReferencePrices.get``
  + ``control_notional``, asked twice per order as the order desk and the check did.
* notional, now, in memory: ``OrderControls.notional_of`` asked twice (the second is the memo's hit).
* notional, now, SQLite store: the same with the prices read from a migrated SQLite file (each
  symbol re-read once a second, so mostly cache hits).
* store read (cache miss): one ``SqlReferenceStore.latest`` (what a symbol costs once a second).
* full check, in memory / SQLite store: ``OrderControls.check`` on the same orders.
* connector: ``ConnectorPolicy.is_large(qty x limit)`` (session 3) against ``needs_quorum`` (now).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.controls_support import T0, Collected, MemoryAuditSink
from tests.controls_support import order as ticket

from orderguard.config import FirmConfig, load_config
from orderguard.domain import Side
from orderguard.execution.intent import OrderIntent, new_nonce
from orderguard.execution.policy import ConnectorPolicy
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.reference_prices import PriceUpdate
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.gateway.stack import ControlsStack, build_controls
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
FIRM = ROOT / "examples" / "firm.toml"
SYMBOLS = [f"SYM{i:02d}" for i in range(50)] + ["AAPL", "MSFT"]


def head_module() -> types.ModuleType:
    """gateway/reference_prices.py as committed at HEAD (session 3), loaded under another name."""
    source = subprocess.run(
        ["git", "show", "HEAD:src/orderguard/gateway/reference_prices.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("head_reference_prices")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "HEAD:reference_prices.py", "exec"), module.__dict__)
    return module


def head_controls(stack: ControlsStack, firm: FirmConfig) -> object:
    """gateway/checks.py's OrderControls as committed at HEAD, over ``stack``'s parts and HEAD's prices."""
    source = subprocess.run(
        ["git", "show", "HEAD:src/orderguard/gateway/checks.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.replace("from orderguard.gateway.reference_prices import", "from head_reference_prices import")
    module = types.ModuleType("head_checks")
    sys.modules[module.__name__] = module
    exec(compile(source, "HEAD:checks.py", "exec"), module.__dict__)
    return module.OrderControls(
        firm,
        directory=stack.directory,
        authorizer=stack.authorizer,
        approvals=stack.approvals,
        venues=stack.venues,
        preclearance=stack.preclearance,
    )


def sells(count: int) -> list[OrderTicket]:
    return [
        ticket(
            f"S-{i}",
            actor="alice",
            side=Side.SELL,
            symbol=SYMBOLS[i % len(SYMBOLS)],
            qty=100 + i % 900,
            price=10.0,
            ts=T0 + i * 1_000_000,
        )
        for i in range(count)
    ]


def market_prices() -> list[PriceUpdate]:
    return [PriceUpdate(s, 50.0 + n, T0 - 60_000_000_000, "feed:adam") for n, s in enumerate(SYMBOLS[::2])]


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
    return f"| {name} | {len(samples):,} | {p50:.2f} | {p99:.2f} | {statistics.fmean(ordered) / 1_000:.2f} |"


def stack_on(firm: FirmConfig, url: str | None) -> ControlsStack:
    sinks = Collected()
    return build_controls(firm, MemoryAuditSink(), notifications=sinks, events=sinks, engine=url)


def fresh(orders: list[OrderTicket]) -> list[OrderTicket]:
    """The same orders as new ticket objects (the per-order memo must not carry over between rows)."""
    return [OrderTicket(*(getattr(o, f) for f in o.__slots__)) for o in orders]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 orders")
    args = parser.parse_args()
    count = 2_000 if args.quick else args.orders
    firm = load_config(FIRM)
    orders = sells(count)
    head = head_module()
    old_prices = head.ReferencePrices(firm.reference_prices)
    for update in market_prices():  # session 3 only learned prices from fills
        old_prices.observe(update.symbol, update.price, update.ts)

    def old_notional(o: OrderTicket) -> object:
        head.control_notional(o, old_prices.get(o.symbol))  # the desk's is_large
        return head.control_notional(o, old_prices.get(o.symbol))  # the check's

    memory = stack_on(firm, None)
    memory.controls.reference_prices.publish(market_prices(), T0)

    def new_notional(controls: object) -> Callable[[OrderTicket], object]:
        def run(o: OrderTicket) -> object:
            controls.notional_of(o)  # type: ignore[attr-defined]
            return controls.notional_of(o)  # type: ignore[attr-defined]

        return run

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/reference.db"
        upgrade(url)
        sql = stack_on(firm, url)
        sql.controls.reference_prices.publish(market_prices(), T0)
        store = SqlReferenceStore(make_engine(url))
        rows.append(
            row("notional, session-3 code, asked twice (baseline)", timed(old_notional, fresh(orders)))
        )
        rows.append(
            row(
                "notional, now, in memory (once + memo hit)",
                timed(new_notional(memory.controls), fresh(orders)),
            )
        )
        rows.append(
            row(
                "notional, now, SQLite store (once + memo hit)",
                timed(new_notional(sql.controls), fresh(orders)),
            )
        )
        rows.append(
            row(
                "store read on a cache miss (SQLite, once/symbol/s)",
                timed(lambda o: store.latest(o.symbol), orders[: count // 4]),
            )
        )
        old = head_controls(memory, firm)
        for update in market_prices():
            old.reference_prices.observe(update.symbol, update.price, update.ts)  # type: ignore[attr-defined]

        def desk(controls: object) -> Callable[[OrderTicket], object]:
            def run(o: OrderTicket) -> object:
                controls.is_large(o)  # type: ignore[attr-defined]
                return controls.check(o)  # type: ignore[attr-defined]

            return run

        rows.append(row("is_large + check, session-3 code (baseline)", timed(desk(old), fresh(orders))))
        rows.append(row("is_large + check, now, in memory", timed(desk(memory.controls), fresh(orders))))
        rows.append(row("is_large + check, now, SQLite store", timed(desk(sql.controls), fresh(orders))))
        rows.append(row("full check, session-3 code (baseline)", timed(old.check, fresh(orders))))  # type: ignore[attr-defined]
        rows.append(row("full check, in memory", timed(memory.controls.check, fresh(orders))))
        rows.append(row("full check, SQLite store", timed(sql.controls.check, fresh(orders))))
        policy_old = ConnectorPolicy.from_firm(firm)
        policy_new = ConnectorPolicy.from_firm(firm, reference_store=store)
        intents = [
            OrderIntent(
                o.order_id,
                o.actor,
                o.account,
                o.symbol,
                o.side,
                Decimal(str(o.qty)),
                Decimal("10"),
                o.venue,
                new_nonce(),
                o.ts,
                o.ts + 1,
            )
            for o in orders
        ]
        by_id = {i.order_id: i for i in intents}
        rows.append(
            row(
                "connector: is_large(qty x limit) (session 3)",
                timed(lambda o: policy_old.is_large(by_id[o.order_id].notional), orders),
            )
        )
        rows.append(
            row(
                "connector: needs_quorum on its own references (SQLite)",
                timed(lambda o: policy_new.needs_quorum(by_id[o.order_id], o.ts), orders),
            )
        )
        store.engine.dispose()
    print(f"sell orders: {count:,}; load average {os.getloadavg()[0]:.1f}")
    print()
    print("| measurement | orders | p50 us | p99 us | mean us |")
    print("|---|---:|---:|---:|---:|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
