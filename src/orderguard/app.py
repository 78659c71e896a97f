"""The composition root: one place builds every stage for a firm and a database and hands the
result to the HTTP API, the web UI and the CLI.

``build_app_context`` loads the firm file, migrates the database, opens the durable audit log
(with a checkpoint signing key), the event store, the controls (Cedar, approvals, pre-clearance,
views), the sealed execution path with the venue simulator, surveillance and the case desk, and
the authentication services.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from orderguard.auth.oidc import OidcVerifier
from orderguard.auth.sessions import SessionService
from orderguard.auth.tokens import TokenService
from orderguard.config import FirmConfig, load_config

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderguard.audit.keys import KeySet
    from orderguard.audit.log import AuditLog
    from orderguard.cases.stack import CasesStack
    from orderguard.domain.alerts import Alert
    from orderguard.gateway.stack import ControlsStack
    from orderguard.storage.events_store import EventStore
    from orderguard.wiring.audit_erasure import ErasureDesk
    from orderguard.wiring.execution_path import ExecutionPath
    from orderguard.wiring.group_commit import BlackoutBookWriter
    from orderguard.wiring.live_surveillance import LiveSurveillance
    from orderguard.wiring.order_desk import OrderDesk
    from orderguard.wiring.sinks import BufferedEventSink, NotificationInbox, OrderBook

DEFAULT_CONFIG = Path("examples/firm.toml")


@dataclass(frozen=True, slots=True)
class SurveillanceRun:
    """One batch surveillance run: the events read, the alerts found, and which were new to the desk."""

    events: int
    alerts: list[Alert]
    stored: tuple[str, ...]  # alert ids stored now (not seen before)
    duplicates: tuple[str, ...]  # alert ids stored by an earlier run


@dataclass(eq=False)
class AppContext:
    """Every service the interfaces call, built once per process."""

    config: FirmConfig
    url: str
    engine: Engine
    audit: AuditLog
    keys: KeySet
    events: EventStore
    event_sink: BufferedEventSink
    notifications: NotificationInbox
    controls: ControlsStack
    book: OrderBook
    orders: OrderDesk
    cases: CasesStack
    tokens: TokenService
    sessions: SessionService
    execution: ExecutionPath | None = None
    oidc: OidcVerifier | None = None
    cookie_secure: bool = False
    clock: Callable[[], int] = time.time_ns
    last_verify: dict[str, object] = field(default_factory=dict)
    state_writer: BlackoutBookWriter | None = None
    live: LiveSurveillance | None = None  # the live surveillance stage; None when it is off

    def scan(self, start_ns: int | None = None, end_ns: int | None = None) -> list[Alert]:
        """Run the batch surveillance engine over the stored events and queue the alerts."""
        return self.surveil(start_ns, end_ns).alerts

    def surveil(self, start_ns: int | None = None, end_ns: int | None = None) -> SurveillanceRun:
        """The batch engine over the events in ``[start_ns, end_ns)`` (every event by default); the
        alerts go to the case desk in this process, so automatic responses hold before it returns."""
        from orderguard.surveillance.batch import BatchEngine

        self.event_sink.flush()
        table = self.events.to_arrow(start_ns, end_ns)
        alerts = BatchEngine(self.config).scan(table)
        ingested = self.cases.alerts.ingest(alerts)
        return SurveillanceRun(table.num_rows, alerts, tuple(ingested.stored), tuple(ingested.duplicates))

    def verify_audit(self) -> dict[str, object]:
        """Full verification of the audit log; the result is kept for the UI and the API."""
        from orderguard.audit.verify import verify_log

        report = verify_log(self.engine, self.keys)
        self.last_verify = {
            "ok": report.ok,
            "size": report.size,
            "root": report.root.hex(),
            "checkpoints_verified": report.checkpoints_verified,
            "seconds": round(report.seconds, 4),
            "findings": [str(f) for f in report.findings[:20]],
            "verified_at_ns": self.clock(),
        }
        return self.last_verify

    def erasure_desk(self) -> ErasureDesk:
        """Audit payload erasure: approvals from the engine, legal holds from the cases stage."""
        from orderguard.wiring.audit_erasure import ErasureDesk

        return ErasureDesk(self.audit, self.controls.approvals, self.cases.state, self.clock)

    def close(self) -> None:
        self.event_sink.close()  # stops its flusher thread, if started, and stores what is pending
        if self.live is not None:
            self.live.close()  # stops its worker and saves its snapshot, before the desk it feeds closes
        if self.execution is not None:
            self.execution.close()  # stops the connector process, if it runs in one
        self.controls.controls.reference_prices.flush()  # the last fills' prices, for the next start
        self.cases.close()
        if self.state_writer is not None:
            self.state_writer.close()
        self.audit.close()
        self.engine.dispose()


def _signer(key_path: Path | None) -> object:
    from orderguard.audit.keys import NoteSigner, load_signer

    if key_path is None:
        return load_signer() or NoteSigner.generate("orderguard-demo")
    if key_path.exists():
        return load_signer(key_path)
    signer = NoteSigner.generate("orderguard-demo")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(signer.skey() + "\n")
    return signer


def build_app_context(
    config: Path | str | FirmConfig = DEFAULT_CONFIG,
    db_url: str = "sqlite:///orderguard.db",
    *,
    audit_key: Path | None = None,
    execute: bool = True,
    oidc: OidcVerifier | None = None,
    cookie_secure: bool = False,
    checkpoint_interval: float = 0.5,
    clock: Callable[[], int] = time.time_ns,
    connector: Literal["in-process", "process"] = "in-process",
    firm_path: Path | None = None,
    surveillance: Literal["live", "off"] = "off",
    desk_keys: Literal["in-process", "signer"] = "in-process",
) -> AppContext:
    """Build every stage for ``config`` on ``db_url`` (migrated first).

    ``connector="process"`` runs the execution connector in its own process, which reads the firm
    file itself: ``config`` as a path, or ``firm_path`` when ``config`` is already loaded.
    ``desk_keys="signer"`` keeps the desk's order-signing keys in the desk signer process.
    ``surveillance="live"`` adds the live surveillance stage (started with the API's lifespan, or
    driven by ``live.catch_up()``); ``serve`` asks for it, other callers scan in batch.
    """
    from orderguard.audit.keys import KeySet, NoteSigner
    from orderguard.audit.log import AuditLog
    from orderguard.gateway.stack import build_controls
    from orderguard.storage import make_engine
    from orderguard.storage.events_store import EventStore
    from orderguard.storage.migrate import upgrade
    from orderguard.wiring.cases_stage import AlertForwarder, cases_stage, notifiers_of
    from orderguard.wiring.group_commit import BlackoutBookWriter, GroupCommitPreClearanceStore
    from orderguard.wiring.order_desk import OrderDesk
    from orderguard.wiring.sinks import BufferedEventSink, NotificationInbox, OrderBook

    firm = config if isinstance(config, FirmConfig) else load_config(config)
    notifiers = notifiers_of(firm)  # before anything opens: a webhook without its secret is a ConfigError
    upgrade(db_url)
    engine = make_engine(db_url)
    signer = _signer(audit_key)
    assert isinstance(signer, NoteSigner)
    audit = AuditLog(engine, signer=signer, checkpoint_interval=checkpoint_interval)
    keys = KeySet([signer.verifier])
    events = EventStore(engine)
    event_sink = BufferedEventSink(events)
    notifications = NotificationInbox()
    forwarder = AlertForwarder()
    controls = build_controls(
        firm,
        audit,
        notifications=notifications,
        events=event_sink,
        alerts=forwarder,
        engine=engine,  # approvals, roles, venues, pre-clearances, blackout book, holding periods
    )
    # The blackout book is written once per client order: group-commit those writes (see group_commit).
    state_writer = BlackoutBookWriter(engine)
    controls.preclearance.store = GroupCommitPreClearanceStore(controls.preclearance.store, state_writer)
    cases = cases_stage(firm, engine, audit, events, controls, notifiers, clock)
    forwarder.cases = cases
    execution = None
    if execute:
        from orderguard.wiring.execution_path import ExecutionPath

        if firm_path is None and not isinstance(config, FirmConfig):
            firm_path = Path(config)
        # The connector reads the stored reference prices itself (its own view, not the API's numbers).
        execution = ExecutionPath(
            firm, audit, connector=connector, firm_path=firm_path, reference_db=db_url, desk_keys=desk_keys
        )
    book = OrderBook()
    live = None
    if surveillance == "live":
        from orderguard.storage.live_state import LiveStateStore
        from orderguard.wiring.live_surveillance import LiveSurveillance

        live = LiveSurveillance(firm, events, cases.alerts, LiveStateStore(engine), clock=clock)
    return AppContext(
        config=firm,
        url=db_url,
        engine=engine,
        audit=audit,
        keys=keys,
        events=events,
        event_sink=event_sink,
        notifications=notifications,
        controls=controls,
        book=book,
        orders=OrderDesk(
            controls, audit, book, execution, clock=clock, responses=cases.state, events=event_sink
        ),
        cases=cases,
        tokens=TokenService(engine),
        sessions=SessionService(engine),
        execution=execution,
        oidc=oidc,
        cookie_secure=cookie_secure,
        clock=clock,
        state_writer=state_writer,
        live=live,
    )


def shifted_clock(anchor_ns: int) -> Callable[[], int]:
    """A clock that reads ``anchor_ns`` now and runs at real speed (the demo lives on its simulated day)."""
    offset = anchor_ns - time.time_ns()

    def now() -> int:
        return time.time_ns() + offset

    return now
