"""CLI commands: ``orderguard alerts ...`` and ``orderguard cases ...`` (the cases stage).

Every read names who reads (``--as`` or ORDERGUARD_ACTOR) and is audited; only compliance and
security may read, never the subject. Exit codes: 0 done, 1 refused, 2 bad usage or input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from orderguard.cases.stack import CasesStack

DbOption = Annotated[
    str,
    typer.Option("--db", envvar="ORDERGUARD_DB", help="Database URL (sqlite:///PATH or postgresql://...)."),
]
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="ORDERGUARD_CONFIG", help="The firm file (TOML).")
]
ActorOption = Annotated[
    str, typer.Option("--as", envvar="ORDERGUARD_ACTOR", help="Who reads (recorded in the audit log).")
]
DEFAULT_DB = "sqlite:///orderguard.db"

alerts_app = typer.Typer(help="Alerts: import from surveillance, list by queue.", no_args_is_help=True)
cases_app = typer.Typer(
    help="Cases: alerts grouped per subject, with evidence and responses.", no_args_is_help=True
)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _stack(db: str, config: Path) -> Iterator[CasesStack]:
    from orderguard.audit.keys import KeyFormatError, load_signer
    from orderguard.audit.log import AuditLog
    from orderguard.cases.stack import build_cases
    from orderguard.config import ConfigError, load_config
    from orderguard.storage import make_engine
    from orderguard.storage.events_store import EventStore
    from orderguard.storage.migrate import upgrade

    try:
        firm = load_config(config)
        signer = load_signer()
    except (ConfigError, KeyFormatError) as exc:
        _fail(str(exc))
    try:
        upgrade(db)
        engine = make_engine(db)
    except Exception as exc:  # noqa: BLE001 - any database problem is reported with the URL
        _fail(f"--db {db}: cannot open the database ({exc})")
    log = AuditLog(engine, signer=signer)
    stack = build_cases(firm, engine, log, events=EventStore(engine))
    try:
        yield stack
    finally:
        stack.close()
        log.close()
        engine.dispose()


def _refused(exc: Exception) -> NoReturn:
    _fail(str(exc), 1)


@alerts_app.command("import")
def import_alerts(
    files: Annotated[list[Path], typer.Argument(help="Alert files (JSON Lines) from surveillance.")],
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = Path("firm.toml"),
) -> None:
    """Store alerts once each (re-importing is harmless), route them and open cases."""
    from orderguard.cases.alert_file import AlertFileError, read_alerts

    try:
        alerts = [a for path in files for a in read_alerts(path)]
    except AlertFileError as exc:
        _fail(str(exc))
    with _stack(db, config) as stack:
        result = stack.alerts.ingest(alerts)
    typer.echo(f"{len(result.stored)} alert(s) stored, {len(result.duplicates)} already stored")
    for alert_id, action in result.unknown_actions.items():
        typer.echo(f"warning: alert {alert_id} has unknown action {action!r}; routed to compliance", err=True)


@alerts_app.command("list")
def list_alerts(
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = Path("firm.toml"),
    queue: Annotated[str | None, typer.Option(help="compliance or security")] = None,
    status: Annotated[str | None, typer.Option(help="new, triage, escalated or closed")] = None,
) -> None:
    """List alerts as JSON Lines (never your own)."""
    from orderguard.cases.model import AccessDeniedError, AlertStatus, Queue

    try:
        wanted_queue = Queue(queue) if queue else None
        wanted_status = AlertStatus(status) if status else None
    except ValueError as exc:
        _fail(f"--queue/--status: {exc}; see --help for the allowed values")
    with _stack(db, config) as stack:
        try:
            found = stack.alerts.list_alerts(actor=actor, queue=wanted_queue, status=wanted_status)
        except AccessDeniedError as exc:
            _refused(exc)
    for alert in found:
        typer.echo(json.dumps(alert.to_record(), separators=(",", ":")))


@cases_app.command("list")
def list_cases(
    actor: ActorOption, db: DbOption = DEFAULT_DB, config: ConfigOption = Path("firm.toml")
) -> None:
    """List cases (never your own)."""
    from orderguard.cases.model import AccessDeniedError

    with _stack(db, config) as stack:
        try:
            found = stack.cases.list_cases(actor=actor)
        except AccessDeniedError as exc:
            _refused(exc)
    for case in found:
        typer.echo(json.dumps(case.summary(), separators=(",", ":")))


@cases_app.command("show")
def show_case(
    case_id: Annotated[str, typer.Argument(help="The case id, from `cases list`.")],
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = Path("firm.toml"),
) -> None:
    """Show a case: its alerts, comments, evidence and responses, as one JSON document."""
    from orderguard.cases.model import AccessDeniedError, CaseError

    with _stack(db, config) as stack:
        try:
            view = stack.cases.show(case_id, actor=actor)
        except AccessDeniedError as exc:
            _refused(exc)
        except CaseError as exc:
            _fail(str(exc))
    document = {
        **view.case.summary(),
        "alerts": [a.to_record() for a in view.alerts],
        "comments": [{"author": c.author, "ts_ns": c.ts_ns, "body": c.body} for c in view.comments],
        "evidence": [{"kind": e.kind, "ref": e.ref, "added_by": e.added_by} for e in view.evidence],
        "responses": [r.summary() for r in view.responses],
    }
    typer.echo(json.dumps(document, indent=1))


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` and ``cases`` command groups to the app."""
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(cases_app, name="cases")
