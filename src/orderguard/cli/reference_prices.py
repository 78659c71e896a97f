"""CLI commands: ``controls reference-prices load FILE`` (end-of-day prices) and ``list``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderguard.config import FirmConfig
    from orderguard.policy.authorizer import AuthzDecision

DEFAULT_DB = "sqlite:///orderguard.db"
DbOption = Annotated[
    str, typer.Option("--db", envvar="ORDERGUARD_DB", help="Database URL holding the reference prices.")
]
ConfigOption = Annotated[
    Path, typer.Option("--config", envvar="ORDERGUARD_CONFIG", help="The firm file (TOML).")
]

controls_app = typer.Typer(help="Inputs of the pre-trade controls.", no_args_is_help=True)
prices_app = typer.Typer(
    help="Reference prices: what a SELL counts at for four-eyes (docs/controls.md).", no_args_is_help=True
)
controls_app.add_typer(prices_app, name="reference-prices")


def register(app: typer.Typer) -> None:
    """Add the ``controls`` command group."""
    app.add_typer(controls_app, name="controls")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@prices_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="CSV (symbol,price,ts) or JSON list of {symbol, price, ts}")],
    actor: Annotated[str, typer.Option("--actor", help="who loads it (a principal allowed to publish)")],
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = Path("firm.toml"),
) -> None:
    """Store an end-of-day file's prices, audited first. Exit 0 stored, 1 not allowed, 2 bad input.

    Only while the server is stopped: the server holds the audit log (post to its API instead)."""
    from orderguard.audit.log import AuditLog
    from orderguard.audit.writer_lock import AuditWriterBusyError
    from orderguard.cli._database import migrated_engine
    from orderguard.config import ConfigError, load_config
    from orderguard.gateway.reference_feed import BAD_INPUT, ReferenceFeed
    from orderguard.gateway.reference_input import ReferenceInputError, read_file
    from orderguard.gateway.reference_prices import ReferencePrices
    from orderguard.gateway.reference_store import SqlReferenceStore

    try:
        firm = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
    engine = migrated_engine(db, "reference_prices", "reference price")
    now = time.time_ns()
    source = f"file:{file.name}"
    try:
        log = AuditLog(engine)
    except AuditWriterBusyError as exc:
        engine.dispose()
        _fail(
            f"cannot load: the audit log's single-writer lock is held ({exc}). While the server runs, "
            "post the prices to it with POST /api/v1/reference-prices (docs/controls.md)"
        )
    with log:
        feed = ReferenceFeed(ReferencePrices(store=SqlReferenceStore(engine)), log)
        decision = _decide(actor, firm, engine, now)
        if firm.principal(actor) is None or not decision.allowed:
            why = decision.message if firm.principal(actor) else f"{actor!r} is not a principal in {config}"
            reason, ids = decision.reason.value, decision.policy_ids
            feed.refuse(actor, reason, why, source=source, now=now, policy_ids=ids)
            _fail(f"{actor} may not publish reference prices: {why}", 1)
        try:
            updates = read_file(file, source, now_ns=now)
        except ReferenceInputError as exc:
            feed.refuse(actor, BAD_INPUT, str(exc), source=source, now=now)
            _fail(str(exc))
        index = feed.publish(actor, updates, source=source, now=now)
    engine.dispose()
    typer.echo(f"stored {len(updates)} reference prices from {file} (audit index {index})")


def _decide(actor: str, firm: FirmConfig, engine: Engine, now: int) -> AuthzDecision:
    """Cedar's decision on the roles as the server sees them: the firm file's principals with the role
    journal replayed (grants, revocations, suspensions), and refused while a case suspends ``actor``."""
    from orderguard.cases.model import ResponseKind
    from orderguard.cases.response_store import ResponseStore
    from orderguard.domain import ReasonCode
    from orderguard.gateway.reference_feed import ACTION, RESOURCE
    from orderguard.policy.authorizer import AuthzDecision, CedarAuthorizer
    from orderguard.policy.context import BusinessHoursClock
    from orderguard.policy.directory import RoleDirectory
    from orderguard.policy.sod import conflict_sets
    from orderguard.policy.sql_role_journal import SqlRoleJournal

    authorizer = CedarAuthorizer.from_files()
    RoleDirectory(
        (p.to_domain() for p in firm.principals),
        conflict_sets(firm.controls.sod_conflicts),
        authorizer,
        journal=SqlRoleJournal(engine),
    )
    if ResponseStore(engine).responses(kind=ResponseKind.SUSPEND, subject=actor, active_only=True):
        suspended = f"{actor} is suspended pending a case"
        return AuthzDecision(False, ReasonCode.PRINCIPAL_SUSPENDED, (), suspended)
    context = {"business_hours": BusinessHoursClock(firm.business_hours)(now)}
    return authorizer.authorize(actor, ACTION, RESOURCE, context)


@prices_app.command("list")
def list_prices(db: DbOption = DEFAULT_DB) -> None:
    """Print the stored reference prices: symbol, price, time and source."""
    from orderguard.cli._database import migrated_engine
    from orderguard.domain import format_ts
    from orderguard.gateway.reference_store import SqlReferenceStore

    engine = migrated_engine(db, "reference_prices", "reference price")
    for update in SqlReferenceStore(engine).all():
        typer.echo(f"{update.symbol}\t{update.price:g}\t{format_ts(update.ts)}\t{update.source}")
    engine.dispose()
