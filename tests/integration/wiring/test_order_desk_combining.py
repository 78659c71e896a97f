"""Orders entered on the event loop are executed in combined batches, beside orders entered from threads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.app import AppContext
from orderguard.audit.encoding import decode_leaf, decode_payload
from orderguard.config import FirmConfig
from orderguard.wiring.order_desk import OrderOutcome
from tests.integration.wiring.desk_world import alice_buy, desk_context

ORDERS = 48


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    """An app context on SQLite with the sealed execution path (connector in process)."""
    context = desk_context(firm, tmp_path, execute=True)
    yield context
    context.close()


def _entries(ctx: AppContext) -> list[tuple[str, str, str]]:
    """(object id, kind, action) of each audit entry, in log order."""
    found = []
    for _idx, _hash, leaf, _salt, _payload in ctx.audit.store.iter_entries():
        header = decode_leaf(leaf).header
        found.append((str(header["object_id"]), str(header["kind"]), str(header["action"])))
    return found


def _verdicts(ctx: AppContext) -> dict[str, int]:
    """The log position of each connector verdict (``executed``), by the order id in its payload."""
    found: dict[str, int] = {}
    for position, (_idx, _hash, leaf, _salt, payload) in enumerate(ctx.audit.store.iter_entries()):
        header = decode_leaf(leaf).header
        if (header["kind"], header["action"]) == ("order", "executed") and payload is not None:
            after = decode_payload(payload).get("after")
            assert isinstance(after, dict)
            order_id = str(after["order_id"])
            assert order_id not in found, f"{order_id} has two verdicts"
            found[order_id] = position
    return found


class TestCombinedOnTheLoop:
    def test_concurrent_orders_share_batches_and_each_gets_its_own_fills(self, ctx: AppContext) -> None:
        """Concurrent async orders are executed in fewer batches than orders, each answered with its fills."""

        async def main() -> list[OrderOutcome]:
            return list(
                await asyncio.gather(
                    *(ctx.orders.submit_async(alice_buy(ctx, f"L-{n}")) for n in range(ORDERS))
                )
            )

        outcomes = asyncio.run(main())
        assert [o.order_id for o in outcomes] == [f"L-{n}" for n in range(ORDERS)]
        for outcome in outcomes:
            assert outcome.accepted
            assert outcome.executions
            assert {e.order_id for e in outcome.executions} == {outcome.order_id}
        combiner = ctx.orders._loop_execution
        assert combiner is not None
        assert combiner.items == ORDERS
        assert combiner.batches < ORDERS

    def test_the_gate_entry_comes_before_the_connector_verdict(self, ctx: AppContext) -> None:
        """Each combined order is audited by the gate first, then once by the connector, before it fills."""

        async def main() -> None:
            await asyncio.gather(*(ctx.orders.submit_async(alice_buy(ctx, f"V-{n}")) for n in range(16)))

        asyncio.run(main())
        entries = _entries(ctx)
        first: dict[str, tuple[int, str, str]] = {}
        for position, (object_id, kind, action) in enumerate(entries):
            first.setdefault(object_id, (position, kind, action))
        gate = [first[f"V-{n}"] for n in range(16)]
        assert {(kind, action) for _, kind, action in gate} == {("order", "created")}
        verdicts = _verdicts(ctx)  # one connector verdict per order (named by the order's digest)
        assert sorted(verdicts) == sorted(f"V-{n}" for n in range(16))
        for n in range(16):
            assert first[f"V-{n}"][0] < verdicts[f"V-{n}"], f"V-{n}: verdict before the gate entry"
        assert {ctx.book.get(f"V-{n}").status for n in range(16)} <= {"executed", "partially executed"}  # type: ignore[union-attr]

    def test_orders_from_threads_and_from_the_loop_execute_together(self, ctx: AppContext) -> None:
        """Blocking submits from threads and awaited submits at the same time are all executed once."""

        async def main() -> list[OrderOutcome]:
            threaded = [asyncio.to_thread(ctx.orders.submit, alice_buy(ctx, f"T-{n}")) for n in range(12)]
            looped = [ctx.orders.submit_async(alice_buy(ctx, f"A-{n}")) for n in range(12)]
            return list(await asyncio.gather(*threaded, *looped))

        outcomes = asyncio.run(main())
        assert all(o.accepted and o.executions for o in outcomes)
        assert len({o.order_id for o in outcomes}) == 24
