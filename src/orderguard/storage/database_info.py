"""What a database holds: backend, applied and pending migration heads, rows per table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import make_url

from orderguard.storage.engine import make_engine, normalise_url
from orderguard.storage.migrate import alembic_config


class DatabaseMissingError(FileNotFoundError):
    """A SQLite URL that points at no file (looking must not create one)."""


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """A snapshot of one database's schema state and contents."""

    url: str  # password hidden
    backend: str
    current: frozenset[str]
    heads: frozenset[str]
    row_counts: tuple[tuple[str, int], ...]

    @property
    def pending(self) -> frozenset[str]:
        """Heads the database has not reached yet (empty when up to date)."""
        return self.heads - self.current

    @property
    def migrated(self) -> bool:
        return bool(self.current)


def database_info(url: str) -> DatabaseInfo:
    """Inspect ``url`` without changing it; a missing SQLite file is DatabaseMissingError."""
    parsed = make_url(normalise_url(url))
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.exists():
            raise DatabaseMissingError(
                f"{shown}: no database file at {path}; create it with `orderguard db upgrade`"
            )
    heads = frozenset(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
            names = sorted(inspect(conn).get_table_names())
            counts = tuple(
                (name, int(conn.execute(select(func.count()).select_from(table(name))).scalar_one()))
                for name in names
                if name != "alembic_version"
            )
    finally:
        engine.dispose()
    return DatabaseInfo(shown, engine.dialect.name, current, heads, counts)
