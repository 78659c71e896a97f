"""Shared pieces of the cases tests: a firm with conflicts, a clock, alerts, events and a wired stack
on a real database with the real audit log."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.rules import default_rules
from orderguard.approvals.sql_store import SqlApprovalStore
from orderguard.audit.keys import NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.cases.approvals_bridge import EngineLiftApprovals, StoreReapproval
from orderguard.cases.notify import SIGNATURE_HEADER, Notifier
from orderguard.cases.responses import SuspensionListener
from orderguard.cases.stack import CasesStack, build_cases
from orderguard.config import FirmConfig, parse_config
from orderguard.domain import Event, EventKind, Side, parse_ts
from orderguard.domain.alerts import Alert
from orderguard.ingest import batch_from_records
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from orderguard.storage.migrate import upgrade
from tests.conftest import EXAMPLE_FIRM

SECOND = 1_000_000_000
# 2026-11-20 (a Friday) 15:00 UTC = 10:00 in New York.
T0 = parse_ts("2026-11-20T15:00:00Z")


def case_firm() -> FirmConfig:
    """The example firm plus a compliance officer on the equities desk (quinn) and a declared
    conflict between carol and bob."""
    data = tomllib.loads(EXAMPLE_FIRM.read_text())
    for principal in data["principals"]:
        if principal["id"] == "carol":
            principal["conflicted_with"] = ["bob"]
    data["principals"].append(
        {"id": "quinn", "name": "Quinn Desk Compliance", "roles": ["compliance"], "desk": "equities"}
    )
    return parse_config(data, "case firm")


class Clock:
    """A settable clock (epoch ns) so times to triage and close are exact."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * SECOND)


def alert(
    rule: str = "query_volume",
    *,
    actor: str = "alice",
    action: str = "alert_security",
    event_ids: tuple[str, ...] = ("ev-1",),
    ts: int = T0,
    symbol: str | None = None,
    severity: str = "high",
) -> Alert:
    return Alert.build(
        rule=rule,
        severity=severity,
        actor=actor,
        symbol=symbol,
        ts=ts,
        event_ids=event_ids,
        explanation=f"{actor} tripped {rule}",
        action=action,
    )


def event(
    event_id: str,
    kind: EventKind,
    actor: str,
    ts: int,
    *,
    account: str | None = None,
    symbol: str | None = None,
    side: Side | None = None,
    qty: float | None = None,
    price: float | None = None,
    venue: str | None = None,
    order_id: str | None = None,
    records: int | None = None,
) -> Event:
    return Event(
        event_id,
        ts,
        kind,
        actor,
        account=account,
        symbol=symbol,
        side=side,
        qty=qty,
        price=price,
        venue=venue,
        order_id=order_id,
        records=records,
    )


def store_events(store: EventStore, events: Sequence[Event]) -> None:
    """Append events through the real intake path (records -> validated batch -> event store)."""
    store.append_batch(batch_from_records([e.to_record() for e in events]).table)


_SQLITE_TEMPLATE: list[Path] = []


def migrate(url: str) -> None:
    """Upgrade ``url`` to every head. A SQLite file gets a copy of one file migrated once per
    session (the same schema, half a second faster per test); PostgreSQL is upgraded in place."""
    target = make_url(url)
    if target.get_backend_name() != "sqlite" or not target.database:
        upgrade(url)
        return
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="cases-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        upgrade(f"sqlite:///{folder / 'migrated.db'}")
        _SQLITE_TEMPLATE.append(folder / "migrated.db")
    shutil.copyfile(_SQLITE_TEMPLATE[0], target.database)


@dataclass
class CaseEnv:
    """A wired cases stack on a migrated database, with the parts tests poke at."""

    stack: CasesStack
    log: AuditLog
    engine: Engine
    events: EventStore
    clock: Clock
    approvals: ApprovalEngine
    directory: RoleDirectory
    signer: NoteSigner


@contextmanager
def case_env(
    url: str,
    *,
    firm: FirmConfig | None = None,
    notifiers: Sequence[Notifier] = (),
    listeners: Sequence[SuspensionListener] = (),
) -> Iterator[CaseEnv]:
    """Migrate ``url`` and wire everything on it; closes the log, notifiers and engine after."""
    firm = firm or case_firm()
    migrate(url)
    engine = make_engine(url)
    signer = NoteSigner.generate("cases-test")
    log = AuditLog(engine, signer=signer)
    clock = Clock()
    directory = RoleDirectory(
        (p.to_domain() for p in firm.principals), conflict_sets(firm.controls.sod_conflicts)
    )
    approval_store = SqlApprovalStore(engine)
    approvals = ApprovalEngine(approval_store, log, directory, default_rules(firm.controls))
    events = EventStore(engine)
    stack = build_cases(
        firm,
        engine,
        log,
        events=events,
        notifiers=notifiers,
        lift_approvals=EngineLiftApprovals(approvals),
        reapproval=StoreReapproval(approval_store, log),
        listeners=(directory, *listeners),
        clock=clock,
    )
    try:
        yield CaseEnv(stack, log, engine, events, clock, approvals, directory, signer)
    finally:
        stack.close()
        log.close()
        engine.dispose()


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint: answers with ``statuses`` in turn (then 200), or hangs while ``hang`` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[tuple[bytes, str]] = []
        self.statuses: list[int] = []
        self.hang = threading.Event()
        self.release = threading.Event()
        self.received = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append((body, self.headers[SIGNATURE_HEADER]))
        self.server.received.set()
        if self.server.hang.is_set():
            self.server.release.wait(30)
            return
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
