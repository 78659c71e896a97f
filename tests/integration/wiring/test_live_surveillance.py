"""The live surveillance stage on real databases, driven pass by pass with ``catch_up``: store order,
hold-back of recent events, late events, restarts from the saved snapshot, and no double alerts."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import select

from orderguard.cases.alerts import IngestResult
from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from orderguard.storage.live_state import LiveStateStore
from orderguard.storage.live_tables import live_surveillance
from orderguard.wiring.live_surveillance import STAGE_NAME, AlertDesk, LiveSurveillance
from tests.integration.wiring.live_world import (
    StepClock,
    afternoon_ns,
    client_buy,
    live_context,
    personal_buy,
    rules,
    store,
)


class TestObserving:
    def test_stored_events_raise_alerts_without_a_scan(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """A personal trade and a 200x client order 5 s later, once stored and due, raise front_running."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, db_url, tmp_path, clock)
        try:
            assert ctx.live is not None
            t = clock.now
            store(ctx.events, personal_buy("P-1", t), client_buy("C-1", t + 5_000_000_000))
            clock.advance(10)
            assert ctx.live.catch_up() == 2
            assert rules(ctx) == ["front_running"]
            status = ctx.live.status()
            assert (status.events_observed, status.alerts_raised, status.late_events) == (2, 1, 0)
            assert status.position is not None
            assert status.position[0] == t + 5_000_000_000
        finally:
            ctx.close()

    def test_recent_events_wait_for_the_lateness_window(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """An event younger than ``lateness`` is held back, then observed once the clock passes it."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=2.0)
        try:
            assert ctx.live is not None
            store(ctx.events, personal_buy("P-1", clock.now - 500_000_000))
            assert ctx.live.catch_up() == 0
            clock.advance(2)
            assert ctx.live.catch_up() == 1
        finally:
            ctx.close()

    def test_sources_arriving_out_of_order_are_observed_in_time_order(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """A personal trade stored after the client order it precedes (another source, within the
        lateness window) is still observed first, so front running fires."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=2.0)
        try:
            assert ctx.live is not None
            t = clock.now
            store(ctx.events, client_buy("C-1", t))
            clock.advance(1)
            assert ctx.live.catch_up() == 0  # the order is younger than the window
            store(ctx.events, personal_buy("P-1", t - 1_000_000_000))
            clock.advance(2)
            assert ctx.live.catch_up() == 2
            assert rules(ctx) == ["front_running"]
            assert ctx.live.status().late_events == 0
        finally:
            ctx.close()

    def test_an_event_behind_the_position_is_counted_late_and_scanned_in_batch(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """A personal trade stored after the stage passed its time (a T+1 file) is counted late, not
        observed, and the stage's own batch scan of its time range raises the front_running alert it
        completes with the earlier-stored client order; a later full scan stores nothing new."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        try:
            assert ctx.live is not None
            t = clock.now
            store(ctx.events, client_buy("C-1", t))
            assert ctx.live.catch_up() == 1
            assert rules(ctx) == []
            store(ctx.events, personal_buy("P-1", t - 10_000_000_000))
            assert ctx.live.catch_up() == 0
            assert rules(ctx) == ["front_running"]
            status = ctx.live.status()
            assert (status.late_events, status.events_observed, status.alerts_raised) == (1, 1, 1)
            assert ctx.live.late_scans == 1
            assert ctx.surveil().stored == ()
            assert ctx.live.catch_up() == 0  # nothing new behind the position: no second scan
            assert ctx.live.late_scans == 1
        finally:
            ctx.close()

    def test_a_batch_scan_after_live_alerts_adds_no_duplicates(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """Alerts raised live have the batch engine's ids: a scan over the same events stores none again."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        try:
            assert ctx.live is not None
            t = clock.now
            store(ctx.events, personal_buy("P-1", t - 5_000_000_000), client_buy("C-1", t))
            ctx.live.catch_up()
            run = ctx.surveil()
            assert len(run.alerts) == 1
            assert (run.stored, len(run.duplicates)) == ((), 1)
        finally:
            ctx.close()


class TestRestart:
    def test_an_alert_whose_window_spans_a_restart_still_fires_once(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """The personal trade is observed before a restart, the client order after it: the restored
        snapshot remembers the trade, front running fires once, and the trade is not observed again."""
        clock = StepClock(afternoon_ns(firm))
        first = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        try:
            assert first.live is not None
            store(first.events, personal_buy("P-1", clock.now))
            assert first.live.catch_up() == 1
        finally:
            first.close()
        clock.advance(20)
        second = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        try:
            assert second.live is not None
            assert second.live.status().restored == "snapshot"
            store(second.events, client_buy("C-1", clock.now))
            assert second.live.catch_up() == 1
            status = second.live.status()
            assert (status.events_observed, status.events_observed_here, status.alerts_raised) == (2, 1, 1)
            assert rules(second) == ["front_running"]
            assert second.surveil().stored == ()
        finally:
            second.close()

    def test_events_stored_while_the_server_was_down_are_caught_up(
        self, firm: FirmConfig, db_url: str, tmp_path: Path
    ) -> None:
        """Events another process stored between two runs are observed on the next start, in order."""
        clock = StepClock(afternoon_ns(firm))
        first = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        try:
            assert first.live is not None
            store(first.events, personal_buy("P-0", clock.now, symbol="AAPL"))
            first.live.catch_up()
        finally:
            first.close()
        engine = make_engine(db_url)
        try:  # the server is down; an ingest job stores a front-run
            store(
                EventStore(engine), personal_buy("P-1", clock.advance(5)), client_buy("C-1", clock.advance(5))
            )
        finally:
            engine.dispose()
        clock.advance(5)
        second = live_context(firm, db_url, tmp_path, clock, lateness=0.0)
        try:
            assert second.live is not None
            assert second.live.catch_up() == 2
            assert rules(second) == ["front_running"]
            assert second.live.status().late_events == 0
        finally:
            second.close()

    def test_alerts_observed_again_after_a_lost_save_are_not_stored_twice(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """A crash after an alert was stored but before the state was saved: the next run observes the
        events again from the older save, finds the same alert and stores nothing new."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        states = LiveStateStore(ctx.engine)
        try:
            assert ctx.live is not None
            store(ctx.events, personal_buy("P-1", clock.now))
            ctx.live.catch_up()
            older = states.load(STAGE_NAME)
            store(ctx.events, client_buy("C-1", clock.advance(5)))
            ctx.live.catch_up()
            assert rules(ctx) == ["front_running"]
        finally:
            ctx.close()
        assert older is not None
        LiveStateStore(make_engine(sqlite_url)).save(older)  # as if the last save never happened
        again = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        try:
            assert again.live is not None
            assert again.live.catch_up() == 1
            status = again.live.status()
            assert (status.alerts_raised, status.alerts_already_stored) == (0, 1)
            assert rules(again) == ["front_running"]
        finally:
            again.close()

    def test_a_snapshot_of_other_detectors_replays_every_event(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """After the firm file switches a detector off, the old snapshot is refused and the stage
        replays the whole store under the new settings, storing no alert twice."""
        clock = StepClock(afternoon_ns(firm))
        first = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        try:
            store(first.events, personal_buy("P-1", clock.now - 5_000_000_000), client_buy("C-1", clock.now))
            assert first.live is not None
            first.live.catch_up()
        finally:
            first.close()
        detectors = firm.detectors.model_copy(
            update={"bulk_export": firm.detectors.bulk_export.model_copy(update={"enabled": False})}
        )
        changed = firm.model_copy(update={"detectors": detectors})
        second = live_context(changed, sqlite_url, tmp_path, clock, lateness=0.0)
        try:
            assert second.live is not None
            assert second.live.status().restored.startswith("fresh (snapshot unusable")
            assert second.live.catch_up() == 2
            assert (second.live.status().alerts_already_stored, rules(second)) == (1, ["front_running"])
        finally:
            second.close()


class FailingOnce:
    """The case desk, except that its first ingestion fails (a database that went away once)."""

    def __init__(self, desk: AlertDesk) -> None:
        self.desk = desk
        self.calls = 0

    def ingest(self, alerts: Iterable[Alert]) -> IngestResult:
        self.calls += 1
        if self.calls == 1:
            raise OSError("database went away")
        return self.desk.ingest(alerts)


class TestWorker:
    def test_a_failed_pass_resumes_from_the_saved_state(
        self, firm: FirmConfig, sqlite_url: str, tmp_path: Path
    ) -> None:
        """When storing alerts fails, the worker counts the error, reloads the saved state and
        observes the events again: the alert is stored once, with nothing skipped."""
        clock = StepClock(afternoon_ns(firm))
        ctx = live_context(firm, sqlite_url, tmp_path, clock, lateness=0.0)
        desk = FailingOnce(ctx.cases.alerts)
        states = LiveStateStore(ctx.engine)
        live = LiveSurveillance(firm, ctx.events, desk, states, clock=clock, lateness=0.0, poll=0.01)
        try:
            store(ctx.events, personal_buy("P-1", clock.now - 5_000_000_000), client_buy("C-1", clock.now))
            live.start()
            expected = (["front_running"], 1, 1, 2, "running")
            deadline = time.monotonic() + 20
            # The worker counts the alert just after the case desk stored it: wait for both.
            while time.monotonic() < deadline:
                status = live.status()
                seen = (rules(ctx), status.errors, status.alerts_raised, status.events_observed, status.state)
                if seen == expected:
                    break
                time.sleep(0.02)
            assert seen == expected
        finally:
            live.close()
            ctx.close()


class TestSavedState:
    @pytest.mark.parametrize("position", [None, (1_790_000_000_000_000_000, 7)])
    def test_a_saved_state_loads_as_saved(
        self, db_url: str, position: tuple[int, int] | None, tmp_path: Path
    ) -> None:
        """Saving twice under one name keeps one row holding the second state, position included."""
        from orderguard.storage.live_state import SavedLiveState
        from orderguard.storage.migrate import upgrade

        upgrade(db_url)
        engine = make_engine(db_url)
        try:
            states = LiveStateStore(engine)
            first = SavedLiveState(STAGE_NAME, b"one", None, 3, 0, 0, None, 10)
            second = SavedLiveState(STAGE_NAME, b"\x00two\xff", position, 9, 2, 4, 99, 20)
            states.save(first)
            states.save(second)
            assert states.load(STAGE_NAME) == second
            assert states.load("elsewhere") is None
            with engine.connect() as conn:
                assert len(conn.execute(select(live_surveillance)).all()) == 1
        finally:
            engine.dispose()

    def test_the_migrated_table_matches_its_definition(self, db_url: str) -> None:
        """Autogenerate finds no difference between migration 0007 and the live_surveillance table."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from orderguard.storage.migrate import upgrade
        from orderguard.storage.schema import metadata
        from tests.integration.storage.test_migrations import _table_of

        upgrade(db_url)
        engine = make_engine(db_url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diffs = compare_metadata(context, metadata)
        finally:
            engine.dispose()
        assert [d for d in diffs if _table_of(d) == live_surveillance.name] == []
