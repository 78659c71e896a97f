"""Orders entered through the HTTP API reach the event store, so batch surveillance sees them: a
personal trade ahead of a much larger client order, both entered via the API, is front running."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.domain import Event, EventKind
from orderguard.ingest import EventBatch
from tests.functional.api.client import TestClient
from tests.functional.api.scan_world import ApiWorld
from tests.functional.api.support import demo_context
from tests.functional.playbooks_api_world import STAFF, open_context
from tests.functional.web.support import audit_entries

SCAN = "/api/v1/surveillance/scan"
ORDERS = "/api/v1/orders"


@contextmanager
def order_world(firm: FirmConfig, folder: Path) -> Iterator[ApiWorld]:
    """The example firm on a fresh database with no events, served by a TestClient (lifespan run)."""
    ctx = open_context(firm, folder)
    auth = {p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"} for p in STAFF}
    try:
        with TestClient(create_app(ctx)) as client:
            yield ApiWorld(ctx, client, auth)
    finally:
        ctx.close()


def order(order_id: str, account: str, qty: float, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "order_id": order_id,
        "account": account,
        "symbol": "NVDA",
        "side": "buy",
        "qty": qty,
        "price": 100.0,
        "venue": "XNYS",
    }
    return body | changes


def stored(ctx: AppContext) -> dict[str, Event]:
    """Every stored event by id (after a flush)."""
    ctx.event_sink.flush()
    return {e.event_id: e for e in EventBatch(ctx.events.to_arrow()).iter_events()}


def front_run(world: ApiWorld) -> None:
    """tom pre-clears and buys 10 NVDA for himself, then enters a 2,000 NVDA client order (200x)."""
    cleared = world.post(
        "tom", "/api/v1/preclearance", json={"account": "PA-tom", "symbol": "NVDA", "side": "buy", "qty": 10}
    )
    assert cleared.json()["decision"]["allowed"], cleared.text
    personal = world.post("tom", ORDERS, json=order("P-1", "PA-tom", 10))
    assert personal.json()["accepted"], personal.text
    client = world.post("tom", ORDERS, json=order("C-1", "C-FAMILY-1", 2_000))
    assert client.json()["accepted"], client.text


class TestOrdersReachSurveillance:
    def test_front_running_entered_through_the_api_is_caught(self, firm: FirmConfig, tmp_path: Path) -> None:
        """The API's scan finds front running naming tom's personal trade and his client order."""
        with order_world(firm, tmp_path) as world:
            front_run(world)
            scan = world.post("carol", SCAN)
            assert scan.status_code == 200, scan.text
            assert scan.json()["by_rule"]["front_running"]["found"] == 1
            alert = next(s.alert for s in world.ctx.cases.store.alerts() if s.alert.rule == "front_running")
            assert {"personal_trade:P-1", "client_order:C-1"} <= set(alert.event_ids)
            assert alert.actor == "tom"

    def test_accepted_orders_and_fills_carry_who_and_where(self, firm: FirmConfig, tmp_path: Path) -> None:
        """The stored events are a personal trade and a client order with the caller's IP and session,
        and the venue's fills of the client order linked by its order id, after it in time."""
        with order_world(firm, tmp_path) as world:
            front_run(world)
            events = stored(world.ctx)
            personal, client = events["personal_trade:P-1"], events["client_order:C-1"]
            assert (personal.kind, personal.account, personal.qty) == (EventKind.PERSONAL_TRADE, "PA-tom", 10)
            assert (client.kind, client.actor, client.side, client.venue, client.qty) == (
                EventKind.CLIENT_ORDER,
                "tom",
                "buy",
                "XNYS",
                2_000,
            )
            assert client.ip == "testclient"
            assert client.session_id
            fills = [e for e in events.values() if e.kind is EventKind.EXECUTION]
            assert fills
            assert all(f.order_id == "C-1" and f.account == "C-FAMILY-1" for f in fills)
            assert sum(f.qty or 0 for f in fills) == 2_000
            assert all(f.ts > client.ts for f in fills)

    def test_refused_orders_are_not_events(self, firm: FirmConfig, tmp_path: Path) -> None:
        """A personal trade without pre-clearance is refused and stored as no event (it is audited)."""
        with order_world(firm, tmp_path) as world:
            refused = world.post("tom", ORDERS, json=order("P-2", "PA-tom", 10))
            assert refused.json()["decision"]["reason_code"] == "PRECLEARANCE_REQUIRED"
            assert stored(world.ctx) == {}

    def test_a_cancel_is_an_order_cancel_event(self, firm: FirmConfig, tmp_path: Path) -> None:
        """tom's cancel of his working personal trade is stored as order_cancel with his IP and session;
        a refused cancel (alice does not own his account) adds no event."""
        with order_world(firm, tmp_path) as world:
            clearance = {"account": "PA-tom", "symbol": "NVDA", "side": "buy", "qty": 10}
            cleared = world.post("tom", "/api/v1/preclearance", json=clearance)
            assert cleared.json()["decision"]["allowed"], cleared.text
            entered = world.post("tom", ORDERS, json=order("P-9", "PA-tom", 10))
            assert entered.json()["accepted"], entered.text
            assert not world.post("alice", f"{ORDERS}/P-9/cancel").json()["accepted"]
            cancelled = world.post("tom", f"{ORDERS}/P-9/cancel")
            assert cancelled.json()["accepted"], cancelled.text
            events = stored(world.ctx)
            cancel = events["order_cancel:P-9"]
            assert (cancel.kind, cancel.actor, cancel.order_id) == (EventKind.ORDER_CANCEL, "tom", "P-9")
            assert cancel.ip == "testclient"
            assert cancel.session_id
            assert sum(e.kind is EventKind.ORDER_CANCEL for e in events.values()) == 1

    def test_a_fully_filled_order_cannot_be_cancelled(self, firm: FirmConfig, tmp_path: Path) -> None:
        """Cancelling a client order the venue has fully filled is refused and audited as a refusal;
        the order stays executed and no order_cancel event is stored."""
        with order_world(firm, tmp_path) as world:
            entered = world.post("alice", ORDERS, json=order("C-9", "C-PENSION-1", 50))
            assert entered.json()["accepted"], entered.text
            booked = world.ctx.book.get("C-9")
            assert booked is not None
            assert booked.status == "executed"
            refused = world.post("alice", f"{ORDERS}/C-9/cancel").json()
            assert refused["accepted"] is False
            assert refused["decision"]["reason_code"] == "NOT_AUTHORIZED"
            assert "executed" in refused["decision"]["message"]
            assert "nothing to cancel" in refused["decision"]["message"]
            assert booked.status == "executed"
            last = audit_entries(world.ctx, "order")[-1]
            assert (last["object_id"], last["actor"]) == ("C-9", "alice")
            assert (last["action"], last["decision"]) == ("refused", "deny")
            events = stored(world.ctx)
            assert "client_order:C-9" in events
            assert not any(e.kind is EventKind.ORDER_CANCEL for e in events.values())

    def test_an_outsider_is_not_told_a_filled_orders_status(self, firm: FirmConfig, tmp_path: Path) -> None:
        """tom (another desk) cancelling alice's filled order is refused by the policy, not by its status."""
        with order_world(firm, tmp_path) as world:
            assert world.post("alice", ORDERS, json=order("C-8", "C-PENSION-1", 50)).json()["accepted"]
            refused = world.post("tom", f"{ORDERS}/C-8/cancel").json()
            assert refused["accepted"] is False
            assert refused["decision"]["reason_code"] == "NOT_AUTHORIZED"
            assert "executed" not in refused["decision"]["message"]

    def test_events_reach_the_store_without_a_scan(self, firm: FirmConfig, tmp_path: Path) -> None:
        """While serving, the background flusher stores an entered order within a few seconds."""
        import time

        with order_world(firm, tmp_path) as world:
            assert world.post("alice", ORDERS, json=order("C-5", "C-PENSION-1", 5)).json()["accepted"]
            deadline = time.monotonic() + 10
            while world.ctx.events.to_arrow().num_rows == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            ids = world.ctx.events.to_arrow().column("event_id").to_pylist()
            assert "client_order:C-5" in ids


class TestDemoDay:
    def test_the_demo_day_stores_each_order_once(self, firm: FirmConfig, tmp_path: Path) -> None:
        """The simulated day's orders are stored once, as simulated, not again by the desk; the desk
        emits only the scripted orders the gate accepted, and the fills of those executed."""
        ctx = demo_context(firm, tmp_path)
        try:
            events = stored(ctx)
            scripted = {
                b.ticket.order_id
                for b in ctx.book.all()
                if b.ticket.order_id.startswith("DAY-") and b.status != "refused"
            }
            assert scripted  # the example firm's stories include accepted large orders
            from_desk = {e.order_id for e in events.values() if e.event_id.startswith("client_order:")}
            assert from_desk == scripted
            assert not any(e.event_id.startswith("personal_trade:") for e in events.values())
            executed = [
                b.ticket for b in ctx.book.all() if b.ticket.order_id in scripted and b.status == "executed"
            ]
            assert executed
            for ticket in executed:
                fills = [
                    e
                    for e in events.values()
                    if e.kind is EventKind.EXECUTION and e.order_id == ticket.order_id
                ]
                assert sum(f.qty or 0 for f in fills) == ticket.qty
        finally:
            ctx.close()
