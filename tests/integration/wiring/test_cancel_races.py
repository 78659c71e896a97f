"""A cancel racing the start of its order's execution: one of the two wins, and the book says which."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.domain import Event, EventKind
from orderguard.wiring.order_desk import OrderOutcome
from tests.integration.wiring.desk_world import alice_buy, desk_context


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    """An app context on SQLite with the sealed execution path (connector in process)."""
    context = desk_context(firm, tmp_path, execute=True)
    yield context
    context.close()


class TestCancelRaces:
    def test_a_cancel_while_the_order_executes_is_refused_and_the_fills_stand(
        self, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """alice's cancel arriving while her order is at the connector is refused (it is executing),
        and the order ends executed with its fills: no cancel is acknowledged for an order that fills."""
        desk, path = ctx.orders, ctx.orders.execution
        assert path is not None
        execute = path.execute
        during: list[OrderOutcome] = []

        def cancel_then_execute(*args: Any, **kwargs: Any) -> Any:
            during.append(desk.cancel("R-1", "alice"))
            return execute(*args, **kwargs)

        monkeypatch.setattr(path, "execute", cancel_then_execute)
        outcome = desk.submit(alice_buy(ctx, "R-1"))
        assert outcome.accepted
        assert outcome.executions
        (cancel,) = during
        assert not cancel.accepted
        assert "being executed" in cancel.decision.message
        booked = desk.book.get("R-1")
        assert booked is not None
        assert booked.status == "executed"

    def test_a_cancel_before_execution_starts_keeps_the_order_from_its_venue(
        self, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A cancel that lands after the gate accepted the order but before its execution starts wins:
        the order is cancelled and never reaches the connector (no fills, no verdict)."""
        desk, sink, path = ctx.orders, ctx.orders.events, ctx.orders.execution
        assert sink is not None
        assert path is not None
        emit = sink.emit
        during: list[OrderOutcome] = []
        executed: list[object] = []

        def emit_then_cancel(event: Event) -> None:  # the gate's order event comes just before execution
            emit(event)
            if event.order_id == "R-2" and event.kind is EventKind.CLIENT_ORDER:
                during.append(desk.cancel("R-2", "alice"))

        monkeypatch.setattr(sink, "emit", emit_then_cancel)
        monkeypatch.setattr(path, "execute", lambda *a, **k: executed.append(a))
        outcome = desk.submit(alice_buy(ctx, "R-2"))
        (cancel,) = during
        assert cancel.accepted, cancel.decision.message
        assert outcome.executions == ()
        assert executed == []
        booked = desk.book.get("R-2")
        assert booked is not None
        assert booked.status == "cancelled"
