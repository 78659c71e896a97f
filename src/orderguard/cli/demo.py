"""CLI commands: demo (the whole pipeline on a simulated day, then the UI) and serve (API + UI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orderguard.cli.serve_options import (
    DEFAULT_DESK_KEYS,
    Connector,
    ConnectorOption,
    DeskKeys,
    DeskKeysOption,
    Surveillance,
    SurveillanceOption,
    connector_mode,
    desk_keys_mode,
    oidc_verifier,
)

if TYPE_CHECKING:
    from orderguard.app import AppContext
    from orderguard.wiring.demo_day import DemoSummary

DEMO_PASSWORD = "orderguard-demo"  # noqa: S105 - printed demo login on a local throwaway database
DEMO_LOGINS = (
    ("carol", "compliance officer, order approver: alert queue, cases, approvals"),
    ("olga", "operations, order approver: the approvals inbox (four-eyes)"),
    ("alice", "trader: sees only her approvals; refused on the alert queue"),
    ("sofia", "security: alerts, cases, audit log"),
)
QUIET_LOG_NOTE = (
    "Alert notifications: the firm file's log notifier is off in the demo (the UI lists every alert); "
    "`serve` sends them as the firm file says."
)
EVENTS_HELP = (
    "events generated per simulated day; the demo stores two days (the day before, for the baselines, "
    "and the demo day) plus the planted scenarios' events"
)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="the firm file (TOML)")]
DbOption = Annotated[str, typer.Option("--db", help="database URL (default: ./orderguard.db)")]


def _reset(url: str) -> None:
    """Start from an empty database: delete the SQLite file (and WAL), or drop every table."""
    from sqlalchemy import MetaData
    from sqlalchemy.engine import make_url

    from orderguard.storage import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


def demo_key_path(db: str) -> Path | None:
    """Where the demo keeps its checkpoint signing key, so that a later ``serve`` can verify the log:
    beside a SQLite file, else ``./orderguard-demo.audit-key``; None when ORDERGUARD_AUDIT_KEY holds it."""
    import os

    from orderguard.audit.keys import KEY_ENV

    if db.startswith("sqlite:///"):
        return Path(db.split("///", 1)[1] + ".audit-key")
    return None if os.environ.get(KEY_ENV) else Path("orderguard-demo.audit-key")


def _plain(granted: str, refused: str, reason: str) -> str:
    """A decision's reason code in plain words: ``granted`` for ALLOWED, else ``refused: CODE``."""
    return granted if reason == "ALLOWED" else f"{refused}: {reason}"


def _summary(ctx: AppContext, summary: DemoSummary, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"orderguard demo: {ctx.config.firm}, one simulated day ({seconds:.1f} s)")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("events stored", f"{summary.events:,}")
    table.add_row("  the day before (habits for the baselines)", f"{summary.events - summary.day_events:,}")
    table.add_row("  the demo day (with the planted scenarios' events)", f"{summary.day_events:,}")
    table.add_row("planted insider scenarios", str(summary.planted_scenarios))
    table.add_row("orders through the controls gate", f"{summary.orders:,}")
    table.add_row("  accepted", f"{summary.accepted:,}")
    table.add_row("  executed (sealed path + venue simulator)", f"{summary.executed:,}")
    table.add_row("  pre-cleared personal trades (run at the employee's broker)", f"{summary.at_broker:,}")
    for reason, n in summary.connector_refused.most_common():
        table.add_row(f"  refused by the connector: {reason}", str(n))
    for reason, n in summary.blocked.most_common():
        table.add_row(f"  blocked: {reason}", str(n))
    table.add_row("large orders approved by a second person", str(summary.approvals_granted))
    table.add_row("large orders awaiting approval (inbox)", str(summary.approvals_pending))
    for reason, n in summary.preclearance.most_common():
        table.add_row(_plain("pre-clearance granted", "pre-clearance refused", reason), str(n))
    for reason, n in summary.views.most_common():
        table.add_row(_plain("order views allowed", "order views refused", reason), str(n))
    for rule, n in sorted(summary.alerts.items()):
        table.add_row(f"alerts: {rule}", str(n))
    if summary.gate_alerts:
        table.add_row("  raised by the controls gate at order entry", str(summary.gate_alerts))
    if summary.live_alerts is not None:
        table.add_row("  raised by live surveillance (events up to the demo's now)", str(summary.live_alerts))
    table.add_row("  added by the batch scan (not already raised)", str(summary.batch_alerts))
    table.add_row("cases opened", str(summary.cases))
    verify = ctx.last_verify
    table.add_row(
        "audit log entries (verified)",
        f"{verify.get('size', 0):,} ({'ok' if verify.get('ok') else 'FAILED'})",
    )
    console.print(table)
    console.print("stages run: " + ", ".join(summary.stages))
    console.print(QUIET_LOG_NOTE)


def _serve(ctx: AppContext, host: str, port: int) -> None:
    import uvicorn

    from orderguard.api import create_app

    uvicorn.run(create_app(ctx, own_process=True), host=host, port=port, log_level="warning")


def _run_demo(  # noqa: PLR0917 - the demo command's options, in order
    config: Path,
    db: str,
    events: int,
    seed: int,
    connector: Connector = Connector.PROCESS,
    desk_keys: DeskKeys = DEFAULT_DESK_KEYS,
) -> AppContext:
    """Reset the database, run the demo day and print the summary; the context stays open."""
    import datetime as dt
    import time

    from orderguard.app import build_app_context, shifted_clock
    from orderguard.config import ConfigError, load_config
    from orderguard.execution.connector_process import ConnectorUnavailableError
    from orderguard.execution.signer_process import SignerUnavailableError
    from orderguard.wiring.demo_day import DEMO_DATE, run_demo_day

    started = time.perf_counter()
    try:
        firm = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    # The UI lists every alert: one log line per alert on the terminal would bury the progress lines.
    firm = firm.model_copy(update={"notifications": firm.notifications.model_copy(update={"log": False})})
    _reset(db)
    # The demo lives on its simulated day: "now" is that day's 15:30 in the firm's time zone.
    local = dt.datetime.combine(DEMO_DATE, dt.time(15, 30), tzinfo=firm.business_hours.zone)
    key = demo_key_path(db)
    if key is not None:
        key.unlink(missing_ok=True)
    try:
        ctx = build_app_context(
            firm,
            db,
            audit_key=key,
            clock=shifted_clock(int(local.timestamp()) * 1_000_000_000),
            connector=connector_mode(connector),
            firm_path=config,
            surveillance="live",
            desk_keys=desk_keys_mode(desk_keys),
        )
    except (ConnectorUnavailableError, SignerUnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        summary = run_demo_day(ctx, events=events, seed=seed, progress=lambda m: typer.echo(f"· {m}"))
    except ValueError as exc:
        ctx.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for principal, _ in DEMO_LOGINS:
        ctx.sessions.set_password(principal, DEMO_PASSWORD)
    _summary(ctx, summary, time.perf_counter() - started)
    if key is not None:
        typer.echo(f"Audit checkpoints are signed with the key in {key}: give it to `serve --audit-key`.")
    return ctx


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command()
    def demo(  # noqa: PLR0917 - Typer options are parameters
        config: ConfigOption = Path("examples/firm.toml"),
        db: DbOption = "sqlite:///orderguard.db",
        no_serve: Annotated[bool, typer.Option("--no-serve", help="print the summary and stop")] = False,
        events: Annotated[int, typer.Option("--events", min=100, help=EVENTS_HELP)] = 1_000,
        seed: Annotated[int, typer.Option("--seed")] = 1,
        port: Annotated[int, typer.Option("--port")] = 8000,
        connector: ConnectorOption = Connector.PROCESS,
        desk_keys: DeskKeysOption = DEFAULT_DESK_KEYS,
    ) -> None:
        """The main job: a simulated trading day through every stage, a summary, then the UI."""
        ctx = _run_demo(config, db, events, seed, connector, desk_keys)
        if no_serve:
            ctx.close()
            return
        typer.echo(f"\nThe UI is at http://127.0.0.1:{port}  (Ctrl-C stops it).")
        typer.echo(f"Demo logins, password {DEMO_PASSWORD!r}:")
        for principal, what in DEMO_LOGINS:
            typer.echo(f"  {principal:<6} {what}")
        try:
            _serve(ctx, "127.0.0.1", port)
        finally:
            ctx.close()

    @app.command()
    def serve(  # noqa: PLR0917 - Typer options are parameters
        config: ConfigOption = Path("examples/firm.toml"),
        db: DbOption = "sqlite:///orderguard.db",
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 8000,
        audit_key: Annotated[
            Path | None, typer.Option("--audit-key", help="checkpoint signing key file")
        ] = None,
        no_execute: Annotated[bool, typer.Option("--no-execute", help="stop at the controls gate")] = False,
        sim_clock: Annotated[
            str | None,
            typer.Option("--sim-clock", help="run the clock from this RFC 3339 instant (demos, benchmarks)"),
        ] = None,
        token_for: Annotated[
            list[str] | None, typer.Option("--issue-token", help="print a new API token for this principal")
        ] = None,
        secure_cookies: Annotated[
            bool, typer.Option("--secure-cookies", help="mark cookies Secure (behind HTTPS)")
        ] = False,
        oidc_issuer: Annotated[
            str | None, typer.Option("--oidc-issuer", help="accept bearer JWTs from this issuer (iss)")
        ] = None,
        oidc_audience: Annotated[
            str | None, typer.Option("--oidc-audience", help="the aud the JWTs must carry")
        ] = None,
        oidc_jwks: Annotated[
            str | None, typer.Option("--oidc-jwks", help="the issuer's JWKS: a file or an http(s) URL")
        ] = None,
        connector: ConnectorOption = Connector.PROCESS,
        surveillance: SurveillanceOption = Surveillance.LIVE,
        desk_keys: DeskKeysOption = DEFAULT_DESK_KEYS,
    ) -> None:
        """Serve the HTTP API and the web UI on an existing database (migrated first)."""
        import getpass
        import time

        from orderguard.app import build_app_context, shifted_clock
        from orderguard.auth.token_desk import TokenDesk
        from orderguard.config import ConfigError
        from orderguard.domain import parse_ts
        from orderguard.execution.connector_process import ConnectorUnavailableError
        from orderguard.execution.signer_process import SignerUnavailableError

        oidc = oidc_verifier(oidc_issuer, oidc_audience, oidc_jwks)
        try:
            clock = shifted_clock(parse_ts(sim_clock)) if sim_clock else time.time_ns
            ctx = build_app_context(
                config,
                db,
                audit_key=audit_key,
                execute=not no_execute,
                oidc=oidc,
                clock=clock,
                cookie_secure=secure_cookies,
                connector=connector_mode(connector),
                surveillance="live" if surveillance is Surveillance.LIVE else "off",
                desk_keys=desk_keys_mode(desk_keys),
            )
        except (ConfigError, ValueError, ConnectorUnavailableError, SignerUnavailableError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        desk = TokenDesk(ctx.tokens, ctx.audit, ctx.clock)
        for principal in token_for or []:
            if ctx.controls.directory.get(principal) is None:
                typer.echo(f"error: --issue-token {principal}: not a principal of the firm file", err=True)
                ctx.close()
                raise typer.Exit(2)
            token = desk.issue_at_console(principal, "serve", operator=f"console:{getpass.getuser()}")
            typer.echo(f"token {principal} {token}", err=False)
        if ctx.live is None:
            ctx.scan()  # live surveillance instead catches up on the stored events in its own thread
        typer.echo(f"serving on http://{host}:{port}", err=True)
        try:
            _serve(ctx, host, port)
        finally:
            ctx.close()
