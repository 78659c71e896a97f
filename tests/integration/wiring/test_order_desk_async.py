"""Order entry as a coroutine: the same decisions, records and book as ``submit``, awaited not blocked."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from orderguard.app import AppContext
from orderguard.audit.encoding import decode_leaf
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.controls_tables import blackout_orders
from orderguard.wiring.order_desk import OrderOutcome
from tests.integration.wiring.desk_world import desk_context


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    """An app context on SQLite without the execution path (gate, audit, blackout book)."""
    context = desk_context(firm, tmp_path, execute=False)
    yield context
    context.close()


def _ticket(ctx: AppContext, order_id: str, **fields: object) -> OrderTicket:
    base: dict[str, object] = {
        "order_id": order_id,
        "actor": "alice",
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "qty": 10.0,
        "price": 190.5,
        "venue": "XNYS",
        "ts": ctx.clock(),
    }
    return OrderTicket(**{**base, **fields})  # type: ignore[arg-type]


def _audited_orders(ctx: AppContext) -> Counter[tuple[str, str]]:
    """(order id, action) of every order entry in the audit log."""
    seen: Counter[tuple[str, str]] = Counter()
    for _idx, _hash, leaf, _salt, _payload in ctx.audit.store.iter_entries():
        header = decode_leaf(leaf).header
        if header["kind"] == "order":
            seen[(str(header["object_id"]), str(header["action"]))] += 1
    return seen


def _blackout_rows(ctx: AppContext) -> set[str]:
    with ctx.engine.connect() as conn:
        return {row.order_id for row in conn.execute(select(blackout_orders))}


class TestSubmitAsync:
    def test_concurrent_orders_are_each_accepted_audited_and_booked_once(self, ctx: AppContext) -> None:
        """Three hundred concurrent orders: each accepted, audited once as created, with its blackout row."""

        async def main() -> list[OrderOutcome]:
            orders = (ctx.orders.submit_async(_ticket(ctx, f"A-{n}")) for n in range(300))
            return list(await asyncio.gather(*orders))

        outcomes = asyncio.run(main())
        assert all(o.accepted for o in outcomes)
        assert len({o.audit_index for o in outcomes}) == 300
        audited = _audited_orders(ctx)
        assert {oid for (oid, action), n in audited.items() if action == "created" and n == 1} == {
            f"A-{n}" for n in range(300)
        }
        assert _blackout_rows(ctx) == {f"A-{n}" for n in range(300)}
        assert {ctx.book.get(f"A-{n}").status for n in range(300)} == {"accepted"}  # type: ignore[union-attr]
        assert ctx.audit.batches_written < 300  # awaited appends share commits

    def test_the_answer_comes_after_the_records_are_durable(self, ctx: AppContext) -> None:
        """When the coroutine returns, the audit entry and the blackout row are already in the database."""

        async def main() -> tuple[OrderOutcome, Counter[tuple[str, str]], set[str]]:
            outcome = await ctx.orders.submit_async(_ticket(ctx, "D-1"))
            return outcome, _audited_orders(ctx), _blackout_rows(ctx)

        outcome, audited, rows = asyncio.run(main())
        assert outcome.accepted
        assert audited[("D-1", "created")] == 1
        assert "D-1" in rows

    def test_a_repeated_order_id_is_refused_and_audited(self, ctx: AppContext) -> None:
        """The second order with an id already entered is refused as REPLAYED; the first keeps its status."""

        async def main() -> tuple[OrderOutcome, OrderOutcome]:
            first = await ctx.orders.submit_async(_ticket(ctx, "R-1"))
            return first, await ctx.orders.submit_async(_ticket(ctx, "R-1", qty=99.0))

        first, again = asyncio.run(main())
        assert first.accepted
        assert not again.accepted
        assert again.decision.reason is ReasonCode.REPLAYED
        assert _audited_orders(ctx)[("R-1", "refused")] == 1
        booked = ctx.book.get("R-1")
        assert booked is not None
        assert (booked.status, booked.ticket.qty) == ("accepted", 10.0)

    def test_an_unapproved_venue_is_refused_and_alerted(self, ctx: AppContext) -> None:
        """A blocked route is refused with its reason and raises the unusual_route alert, like ``submit``."""
        outcome = asyncio.run(ctx.orders.submit_async(_ticket(ctx, "V-1", venue="DARK-X")))
        assert outcome.decision.reason is ReasonCode.VENUE_NOT_APPROVED
        assert [a.rule for a in outcome.alerts] == ["unusual_route"]
        assert ctx.book.get("V-1").status == "refused"  # type: ignore[union-attr]
        assert "V-1" not in _blackout_rows(ctx)

    def test_it_decides_like_submit(self, firm: FirmConfig, tmp_path: Path) -> None:
        """The same orders through ``submit`` and ``submit_async`` get the same decisions and statuses."""
        orders: list[tuple[str, dict[str, object]]] = [
            ("P-ok", {}),
            ("P-large", {"qty": 10_000.0}),  # needs an approval (a thread does the reads)
            ("P-personal", {"account": "PA-alice"}),  # needs a pre-clearance
            ("P-dark", {"venue": "DARK-X"}),
            ("P-developer", {"actor": "dana"}),  # not a trader
            ("P-ok", {}),  # a repeated id
        ]
        results = {}
        for mode in ("sync", "async"):
            (tmp_path / mode).mkdir()
            context = desk_context(firm, tmp_path / mode, execute=False)
            try:
                got = []
                for order_id, fields in orders:
                    ticket = _ticket(context, order_id, **fields)
                    if mode == "sync":
                        outcome = context.orders.submit(ticket)
                    else:
                        outcome = asyncio.run(context.orders.submit_async(ticket))
                    booked = context.book.get(order_id)
                    status = booked.status if booked is not None else None
                    got.append((order_id, outcome.accepted, outcome.decision.reason, status))
                results[mode] = got
            finally:
                context.close()
        assert results["async"] == results["sync"]
        assert [accepted for _, accepted, _, _ in results["sync"]] == [True] + [False] * 5


class TestSubmitAsyncWithExecution:
    def test_accepted_orders_are_executed_after_they_are_audited(
        self, firm: FirmConfig, tmp_path: Path
    ) -> None:
        """With the sealed path, accepted orders reach the venue; the gate's entry is the order's first."""
        context = desk_context(firm, tmp_path, execute=True)
        try:

            async def main() -> list[OrderOutcome]:
                orders = (context.orders.submit_async(_ticket(context, f"X-{n}")) for n in range(40))
                return list(await asyncio.gather(*orders))

            outcomes = asyncio.run(main())
            assert all(o.accepted and o.executions for o in outcomes)
            statuses = {context.book.get(f"X-{n}").status for n in range(40)}  # type: ignore[union-attr]
            assert statuses <= {"executed", "partially executed"}
            first_seen: dict[str, str] = {}
            for _idx, _hash, leaf, _salt, _payload in context.audit.store.iter_entries():
                header = decode_leaf(leaf).header
                first_seen.setdefault(str(header["object_id"]), str(header["kind"]))
            assert {first_seen[f"X-{n}"] for n in range(40)} == {"order"}
        finally:
            context.close()
