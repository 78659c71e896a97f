"""CLI commands: ``orderguard db upgrade`` and ``orderguard db info``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from orderguard.storage.database_info import DatabaseInfo

T = TypeVar("T")

DEFAULT_DB = "sqlite:///orderguard.db"  # same as orderguard.storage.DEFAULT_URL, kept here for a fast --help

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="ORDERGUARD_DB",
        help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB.",
        show_default=True,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group to the app."""
    db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade(db: DbOption = DEFAULT_DB) -> None:
        """Create or migrate the database to the newest schema (safe to run again)."""
        from orderguard.storage.migrate import upgrade as run_upgrade

        _guard(lambda: run_upgrade(db), db)
        info = _info(db)
        typer.echo(f"{info.url}: up to date at {', '.join(sorted(info.current))}")

    @db_app.command("info")
    def info(db: DbOption = DEFAULT_DB) -> None:
        """Show the backend, the applied migrations and the rows in each table."""
        snapshot = _info(db)
        typer.echo(f"database  {snapshot.url}")
        typer.echo(f"backend   {snapshot.backend}")
        typer.echo(f"revision  {', '.join(sorted(snapshot.current)) or '(none: not migrated)'}")
        for name, rows in snapshot.row_counts:
            typer.echo(f"table     {name:<24} {rows:>12,} rows")
        if snapshot.pending:
            typer.echo(
                f"pending   {', '.join(sorted(snapshot.pending))}: run `orderguard db upgrade --db URL`",
                err=True,
            )
            raise typer.Exit(1)


def _info(db: str) -> DatabaseInfo:
    from orderguard.storage.database_info import database_info

    return _guard(lambda: database_info(db), db)


def _guard(action: Callable[[], T], db: str) -> T:
    """Run ``action``; a bad URL, a missing file or an unreachable server exits 2 with the reason."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        return action()
    except (ValueError, ArgumentError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OperationalError as exc:
        from sqlalchemy.engine import make_url

        shown = make_url(db).render_as_string(hide_password=True)
        typer.echo(f"error: cannot open database {shown}: {exc.orig}", err=True)
        raise typer.Exit(2) from None
