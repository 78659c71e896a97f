"""Live surveillance in the served API: orders entered over HTTP raise alerts without a scan, the
state survives a restart of the app context, and the status route and metrics show it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orderguard.api import create_app
from orderguard.app import AppContext, build_app_context, shifted_clock
from orderguard.config import FirmConfig
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from tests.functional.api.client import TestClient
from tests.functional.api.scan_world import ApiWorld
from tests.functional.api.test_order_events import ORDERS, SCAN, order
from tests.functional.playbooks_api_world import STAFF
from tests.integration.wiring.live_world import afternoon_ns, personal_buy, rules, store

STATUS = "/api/v1/surveillance/status"


@contextmanager
def live_world(firm: FirmConfig, url: str, folder: Path, anchor_ns: int) -> Iterator[ApiWorld]:
    """The example firm served with live surveillance (0.2 s hold-back, 50 ms polls), its clock
    running from ``anchor_ns``; a restart passes the previous run's clock on."""
    ctx = build_app_context(
        firm, url, audit_key=folder / "audit.key", clock=shifted_clock(anchor_ns), surveillance="live"
    )
    assert ctx.live is not None
    ctx.live.lateness_ns, ctx.live.poll = 200_000_000, 0.05
    auth = {p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"} for p in STAFF}
    try:
        with TestClient(create_app(ctx, web=False)) as client:
            yield ApiWorld(ctx, client, auth)
    finally:
        ctx.close()


def wait_for(ctx: AppContext, wanted: list[str], seconds: float = 15) -> list[str]:
    """The stored alerts' rules once they are ``wanted`` (or whatever is stored at the deadline)."""
    deadline = time.monotonic() + seconds
    while rules(ctx) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return rules(ctx)


def wait_observed(world: ApiWorld, count: int, seconds: float = 15) -> dict[str, Any]:
    """The status once the stage has observed ``count`` events in total (or at the deadline)."""
    deadline = time.monotonic() + seconds
    while True:
        status: dict[str, Any] = world.get("carol", STATUS).json()
        if status["events_observed"] >= count or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def preclear_and_buy(world: ApiWorld, order_id: str) -> None:
    """tom pre-clears and buys 10 NVDA for himself through the API."""
    cleared = world.post(
        "tom", "/api/v1/preclearance", json={"account": "PA-tom", "symbol": "NVDA", "side": "buy", "qty": 10}
    )
    assert cleared.json()["decision"]["allowed"], cleared.text
    assert world.post("tom", ORDERS, json=order(order_id, "PA-tom", 10)).json()["accepted"]


class TestLiveInTheServer:
    def test_front_running_entered_over_http_is_alerted_without_a_scan(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """tom's personal trade then his 200x client order, both entered over HTTP, put a front_running
        alert in the queue with no scan; status and metrics count it, and a later scan stores nothing."""
        with live_world(firm, db_url, tmp_path, afternoon_ns(firm)) as world:
            preclear_and_buy(world, "P-1")
            assert world.post("tom", ORDERS, json=order("C-1", "C-FAMILY-1", 2_000)).json()["accepted"]
            assert wait_for(world.ctx, ["front_running"]) == ["front_running"]
            alert = world.ctx.cases.store.alerts()[0].alert
            assert {"personal_trade:P-1", "client_order:C-1"} <= set(alert.event_ids)
            status = world.get("carol", STATUS).json()
            assert (status["mode"], status["state"], status["alerts_raised"]) == ("live", "running", 1)
            assert status["last_alert_at"] is not None
            assert status["events_observed"] >= 2
            metrics = world.client.get("/metrics").text
            assert "orderguard_live_alerts_raised_total 1.0" in metrics
            assert "orderguard_live_events_observed_total" in metrics
            scan = world.post("carol", SCAN).json()
            assert (scan["alerts"], scan["stored"], scan["duplicates"]) == (1, 0, 1)

    def test_a_restart_resumes_from_the_snapshot_and_catches_up(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """The personal trade before a restart and the client order after it still make one
        front_running alert; an event stored while the server was down is caught up on start."""
        with live_world(firm, db_url, tmp_path, afternoon_ns(firm)) as world:
            preclear_and_buy(world, "P-1")
            before = wait_observed(world, 1)
            assert before["events_observed"] == 1
            stopped_at = world.ctx.clock()
        engine = make_engine(db_url)
        try:  # while down: an ingest job stores tom's large personal trade (notional above $100,000)
            store(
                EventStore(engine), personal_buy("P-BIG", stopped_at + 1_000_000_000, qty=5_000, symbol="IBM")
            )
        finally:
            engine.dispose()
        with live_world(firm, db_url, tmp_path, stopped_at + 2_000_000_000) as world:
            assert world.post("tom", ORDERS, json=order("C-1", "C-FAMILY-1", 2_000)).json()["accepted"]
            found = wait_for(world.ctx, ["front_running", "large_personal_trade"])
            assert found == ["front_running", "large_personal_trade"]
            status = wait_observed(world, 3)
            assert status["restored"] == "snapshot"
            assert status["events_observed"] - status["events_observed_since_start"] == 1
            assert status["late_events"] == 0
            assert world.post("carol", SCAN).json()["stored"] == 0

    def test_events_posted_to_the_api_are_observed_live(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """A batch posted to /api/v1/events goes through the detectors like the desk's own events."""
        import json

        with live_world(firm, sqlite_url, tmp_path, afternoon_ns(firm)) as world:
            now = world.ctx.clock()
            body = json.dumps(personal_buy("P-BIG", now - 1_000_000_000, qty=5_000, symbol="IBM"))
            posted = world.post("sofia", "/api/v1/events", content=body + "\n")
            assert posted.status_code == 201, posted.text
            assert wait_for(world.ctx, ["large_personal_trade"]) == ["large_personal_trade"]

    def test_status_says_off_when_live_surveillance_is_off(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """Without the stage the status route answers mode off and the metrics carry no live series."""
        ctx = build_app_context(firm, sqlite_url, audit_key=tmp_path / "audit.key", execute=False)
        try:
            auth = {"Authorization": f"Bearer {ctx.tokens.issue('carol')}"}
            with TestClient(create_app(ctx, web=False)) as client:
                assert client.get(STATUS, headers=auth).json()["mode"] == "off"
                assert "orderguard_live" not in client.get("/metrics").text
        finally:
            ctx.close()
