"""Live surveillance in the server: every stored event through the stream engine, in store order.

Both sources of events (the order desk's buffered sink and ``POST /api/v1/events``) end in the
event store, so the stage reads the store, not the sources: one worker thread polls it every
``poll`` seconds and observes, in the store's total order (ts, seq), every event with a
timestamp at least ``lateness`` seconds old. The order route never waits for it, and there is
no queue that could overflow: an event not yet observed is simply still ahead of the position,
and a worker that falls behind catches up from the store (``lag_seconds`` grows, a warning is
logged). While catching up it pauses between pages so that it takes at most ``cpu_share`` of
its thread's time: under overload the order route keeps its CPU and surveillance lags instead.

Out-of-order arrival. The stream engine needs events in (ts, seq) order, but the sink stores a
batch up to half a second after its events happened and an ingested batch may carry any times.
Holding each event back until ``lateness`` seconds after its timestamp lets the two sources
interleave in time order. An event stored later than that, with a timestamp before the live
position, cannot be observed any more without changing answers already given: it is counted as
late (``late_events``), logged with its id, and the worker batch-scans the time range of the late
events (widened by the longest detector window) with the windowed detectors, handing the alerts to
the same ingest, where they dedup against the live ones by alert id. The baseline detectors (query
volume, bulk export, after-hours daily counts) are left out of that scan, since a short range lacks
their history: late events reach them only through a full batch scan (``POST
/api/v1/surveillance/scan``). An event stamped in the future waits until the clock reaches it.

Alerts go to the case desk as soon as a page of events is observed, through the same
``AlertService.ingest`` a scan uses: same dedup by deterministic alert id, same automatic
responses and notifications. The stream snapshot, position and counters are saved in the
database (``storage.live_state``) every ``save_every`` seconds and at close; a restart restores
them and resumes after the saved position, catching up on events stored meanwhile. Events
observed after the last save are observed again after a crash, and their alerts dedup. A pass that
fails (the desk or the database) marks the state for reload: the next pass, and a restart, resume
from the last save, and ``close`` does not save a state whose alerts may not have been handed over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from orderguard.cases.alerts import IngestResult
from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.storage.events_store import EventStore
from orderguard.storage.live_state import LiveStateStore, SavedLiveState
from orderguard.surveillance.stream import SnapshotError, StreamEngine

log = logging.getLogger(__name__)

NS: Final = 1_000_000_000
STAGE_NAME: Final = "server"
BEHIND_WARNING_SECONDS: Final = 30.0  # lag above this is logged (at most once a minute)
# Detectors whose alerts depend only on events within a window around them; the baseline ones
# (query volume, bulk export, after-hours daily counts) would misjudge a short range without its history.
LATE_SCAN_RULES: Final = (
    "front_running",
    "copy_trading",
    "wash_trading",
    "structuring",
    "large_personal_trade",
    "unusual_route",
)


def late_scan_reach_seconds(firm: FirmConfig) -> float:
    """How far either side of a late event the late scan reads: the longest window of LATE_SCAN_RULES."""
    d = firm.detectors
    return max(
        d.front_running.lead_seconds,
        d.copy_trading.lag_seconds,
        d.wash_trading.window_seconds,
        d.structuring.window_seconds,
    )


class AlertDesk(Protocol):
    """Where alerts go: the case desk's ``AlertService`` (idempotent on alert id)."""

    def ingest(self, alerts: Iterable[Alert]) -> IngestResult: ...


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """What the stage has done, for the status route and the metrics."""

    state: str  # "not started", "running", "stopped"
    since_ns: int | None  # when the worker started (server clock)
    restored: str  # "snapshot", "fresh (no saved state)", "fresh (snapshot unusable: ...)"
    events_observed: int  # in total, across restarts
    events_observed_here: int  # by this process
    position: tuple[int, int] | None
    lag_seconds: float
    late_events: int
    alerts_raised: int  # new alerts stored by the stage, across restarts
    alerts_already_stored: int  # by this process: found again (a scan, or a replay after a crash)
    last_alert_ns: int | None
    errors: int
    lateness_seconds: float


class LiveSurveillance:
    """The server's live surveillance stage (see the module docstring)."""

    def __init__(
        self,
        firm: FirmConfig,
        events: EventStore,
        desk: AlertDesk,
        state: LiveStateStore,
        *,
        clock: Callable[[], int] = time.time_ns,
        lateness: float = 2.0,
        poll: float = 0.25,
        save_every: float = 30.0,
        page: int = 2_000,
        cpu_share: float = 0.5,
    ) -> None:
        self.firm = firm
        self.events = events
        self.desk = desk
        self.state = state
        self.clock = clock
        self.lateness_ns = round(lateness * NS)
        self.poll = poll
        self.save_every = save_every
        self.page = page
        self.cpu_share = cpu_share
        self.errors = 0
        self.alerts_already_stored = 0
        self.observed_here = 0
        self.lag_seconds = 0.0
        self.since_ns: int | None = None
        self._lock = threading.Lock()  # one pass at a time: the worker, catch_up, close
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved_at = time.monotonic()
        self._dirty = False
        self._warned_at = float("-inf")
        self.engine = StreamEngine(firm)
        self.restored = ""
        self.cursor_seq = self.late_events = self.alerts_raised = 0
        self.late_scans = 0  # by this process: batch scans over events stored behind the position
        self.last_alert_ns: int | None = None
        self._reload = False
        self._load()

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Observe from a background thread from now on (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self.since_ns = self.clock()
            self._thread = threading.Thread(target=self._run, name="live-surveillance", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the worker (after its current page) and save the state, unless a failed pass left it
        ahead of the alerts handed to the case desk (then the next start replays from the last save)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if not self._dirty or self._reload:
                return
            try:
                self._save()
            except Exception:  # shutdown goes on: the next start replays from the previous save
                log.exception("live surveillance could not save its state at shutdown")

    def catch_up(self) -> int:
        """Observe every event due now, in this thread; how many were observed."""
        with self._lock:
            try:
                if self._reload:
                    self._load()
                observed = self._pass(background=False)
                if self._dirty:
                    self._save()
            except Exception:
                # The engine may have observed events whose alerts never reached the desk: only the saved
                # state is known to be handed over, so the next pass (or start) resumes from it.
                self.errors += 1
                self._reload = True
                raise
            return observed

    def status(self) -> LiveStatus:
        thread = self._thread
        state = "not started" if thread is None else "running" if thread.is_alive() else "stopped"
        return LiveStatus(
            state=state,
            since_ns=self.since_ns,
            restored=self.restored,
            events_observed=self.engine.seen,
            events_observed_here=self.observed_here,
            position=self.engine.last,
            lag_seconds=self.lag_seconds,
            late_events=self.late_events,
            alerts_raised=self.alerts_raised,
            alerts_already_stored=self.alerts_already_stored,
            last_alert_ns=self.last_alert_ns,
            errors=self.errors,
            lateness_seconds=self.lateness_ns / NS,
        )

    # --- the worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0  # in a row: the wait before the next try doubles, up to a minute
        while not self._stop.is_set():
            try:
                with self._lock:
                    if self._reload:
                        self._load()
                    self._pass()
                    if self._dirty and time.monotonic() - self._saved_at >= self.save_every:
                        self._save()
                failures = 0
            except Exception:  # the stage must outlive a failing database: resume from the saved state
                self.errors += 1
                failures += 1
                self._reload = True
                log.exception("live surveillance pass failed; resuming from the last saved state")
            self._stop.wait(min(60.0, self.poll * 2**failures))

    def _pass(self, *, background: bool = True) -> int:
        """Count what arrived behind the position, then observe everything due, page by page (in the
        background: with a warning when far behind, and pauses that cap the thread's CPU share)."""
        now = self.clock()
        top = self.events.next_seq() - 1
        position = self.engine.last
        if position is not None and top > self.cursor_seq:
            late, sample = self.events.behind(position[0], after_seq=self.cursor_seq, through_seq=top)
            if late:
                self.late_events += late
                self._dirty = True
                log.warning(
                    "live surveillance: %d event(s) arrived behind the live position (e.g. %s); "
                    "scanning their time range in batch",
                    late,
                    ", ".join(sample),
                )
                self._scan_late(position[0], top)
        observed = 0
        first = True
        while not (observed and self._stop.is_set()):
            page = self.events.after(
                self.engine.last, until_ns=now - self.lateness_ns, through_seq=top, limit=self.page
            )
            if first:
                self.lag_seconds = (now - page[0].ts) / NS if page else 0.0
                if background:
                    self._warn_if_behind()
                first = False
            if not page:
                break
            started = time.thread_time()
            found: list[Alert] = []
            for event in page:
                alerts = self.engine.observe(event)
                if alerts:
                    found += alerts
            observed += len(page)
            self.observed_here += len(page)
            self._dirty = True
            if found:
                self._raise(found)
            if len(page) < self.page:
                break
            if background and self.cpu_share < 1.0:  # catching up: leave the order route its CPU (and GIL)
                self._stop.wait((time.thread_time() - started) * (1.0 / self.cpu_share - 1.0))
        if top > self.cursor_seq:
            self.cursor_seq = top
            self._dirty = True
        return observed

    def _scan_late(self, position_ns: int, top: int) -> None:
        """Batch-scan the time range of the events stored behind the position, widened by the longest
        detector window, with the windowed detectors (those whose answer a range scan cannot change
        through missing history); the alerts go through the same ingest and dedup by alert id."""
        span = self.events.behind_span(position_ns, after_seq=self.cursor_seq, through_seq=top)
        if span is None:
            return
        from orderguard.surveillance.batch import BatchEngine

        reach = round(late_scan_reach_seconds(self.firm) * NS)
        table = self.events.to_arrow(span[0] - reach, span[1] + reach + 1)
        found = BatchEngine(self.firm, rules=LATE_SCAN_RULES).scan(table)
        self.late_scans += 1
        if found:
            self._raise(found)

    def _raise(self, alerts: list[Alert]) -> None:
        result = self.desk.ingest(alerts)
        self.alerts_raised += len(result.stored)
        self.alerts_already_stored += len(result.duplicates)
        if result.stored:
            self.last_alert_ns = self.clock()

    def _warn_if_behind(self) -> None:
        if self.lag_seconds > BEHIND_WARNING_SECONDS and time.monotonic() - self._warned_at >= 60:
            self._warned_at = time.monotonic()
            log.warning(
                "live surveillance is %.0f s behind the stored events; catching up from the store",
                self.lag_seconds,
            )

    # --- state -----------------------------------------------------------------------------------
    def _load(self) -> None:
        """Restore the saved state, or start fresh from the first stored event (nothing changes
        when the saved state cannot be read)."""
        saved = self.state.load(STAGE_NAME)
        engine = StreamEngine(self.firm)
        restored = "fresh (no saved state)"
        if saved is not None:
            try:
                engine.restore(saved.snapshot)
                restored = "snapshot"
            except SnapshotError as exc:
                # A changed firm file (detectors switched on or off): replay everything under the new one.
                log.warning("live surveillance: snapshot unusable (%s); replaying every stored event", exc)
                restored, saved = f"fresh (snapshot unusable: {exc})", None
        self.engine = engine
        self.restored = restored
        self.cursor_seq = 0 if saved is None else saved.cursor_seq
        self.late_events = 0 if saved is None else saved.late_events
        self.alerts_raised = 0 if saved is None else saved.alerts_raised
        self.last_alert_ns = None if saved is None else saved.last_alert_ns
        self._dirty = False
        self._reload = False

    def _save(self) -> None:
        self.state.save(
            SavedLiveState(
                name=STAGE_NAME,
                snapshot=self.engine.snapshot(),
                position=self.engine.last,
                cursor_seq=self.cursor_seq,
                late_events=self.late_events,
                alerts_raised=self.alerts_raised,
                last_alert_ns=self.last_alert_ns,
                saved_ns=self.clock(),
            )
        )
        self._saved_at = time.monotonic()
        self._dirty = False
