"""The live stage never saves a position whose alerts did not reach the case desk: a failed hand-off
in ``catch_up`` is replayed by the next pass or, after ``close`` and a restart, by the next process."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderguard.config import FirmConfig
from orderguard.storage.live_state import LiveStateStore
from orderguard.wiring.live_surveillance import STAGE_NAME, LiveSurveillance
from tests.integration.wiring.live_world import (
    StepClock,
    afternoon_ns,
    client_buy,
    live_context,
    personal_buy,
    rules,
    store,
)
from tests.integration.wiring.test_live_surveillance import FailingOnce


class TestFailedHandOff:
    def test_close_after_a_failed_hand_off_keeps_the_alert_for_the_restart(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """When the desk fails during catch_up, close saves nothing, so a restarted stage raises the alert."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        states = LiveStateStore(ctx.engine)
        try:
            live = LiveSurveillance(
                firm, ctx.events, FailingOnce(ctx.cases.alerts), states, clock=clock, lateness=0.0
            )
            store(ctx.events, personal_buy("P-1", clock.now - 5_000_000_000), client_buy("C-1", clock.now))
            with pytest.raises(OSError, match="database went away"):
                live.catch_up()
            assert live.status().errors == 1
            live.close()
            assert states.load(STAGE_NAME) is None  # nothing handed over, nothing saved
            desk = ctx.cases.alerts
            restarted = LiveSurveillance(firm, ctx.events, desk, states, clock=clock, lateness=0.0)
            clock.advance(5)
            assert restarted.catch_up() == 2
            restarted.close()
            assert rules(ctx) == ["front_running"]
            status = restarted.status()
            assert (status.alerts_raised, status.late_events, status.events_observed) == (1, 0, 2)
        finally:
            ctx.close()

    def test_the_next_catch_up_after_a_failed_hand_off_replays_the_events(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """A second catch_up after a failed hand-off observes the events again (none counted late)."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        desk = FailingOnce(ctx.cases.alerts)
        states = LiveStateStore(ctx.engine)
        live = LiveSurveillance(firm, ctx.events, desk, states, clock=clock, lateness=0.0)
        try:
            store(ctx.events, personal_buy("P-1", clock.now - 5_000_000_000), client_buy("C-1", clock.now))
            with pytest.raises(OSError, match="database went away"):
                live.catch_up()
            clock.advance(5)
            assert live.catch_up() == 2
            assert rules(ctx) == ["front_running"]
            status = live.status()
            assert (status.alerts_raised, status.late_events, status.events_observed) == (1, 0, 2)
        finally:
            live.close()
            ctx.close()
