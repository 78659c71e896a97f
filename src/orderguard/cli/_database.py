"""Opening a command's ``--db``: exit 2, naming the fix, when the URL is bad or migrations are missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine


def migrated_engine(db: str, table: str, tables: str) -> Engine:
    """An engine for ``db`` whose migrations created ``table`` (one of the ``tables`` tables), or exit 2."""
    from sqlalchemy import inspect

    from orderguard.storage import make_engine

    try:
        engine = make_engine(db)
    except ValueError as exc:
        _usage_error(f"--db: {exc}")
    if not inspect(engine).has_table(table):
        _usage_error(f"--db {db}: no {tables} tables; run `orderguard db upgrade --db {db}` first")
    return engine


def _usage_error(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)
