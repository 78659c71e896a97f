"""The cases migration on both backends: it builds exactly the tables the code uses, and undoes them."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from orderguard.storage import make_engine
from orderguard.storage.cases_tables import CASES_TABLES
from orderguard.storage.migrate import alembic_config, upgrade
from orderguard.storage.schema import metadata


def _table_of(diff: Any) -> str | None:
    """The table a compare_metadata entry concerns (entries are tuples, or lists of tuples)."""
    if isinstance(diff, list):
        return _table_of(diff[0])
    for item in diff[1:]:
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        name = getattr(item, "name", None)
        if name and hasattr(item, "columns"):
            return str(name)
    return str(diff[2]) if len(diff) > 2 and isinstance(diff[2], str) else None


class TestCasesMigration:
    def test_migrated_schema_matches_the_tables(self, db_url: str) -> None:
        """Autogenerate finds no difference between the migrated cases tables and their definitions."""
        upgrade(db_url)
        engine = make_engine(db_url)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, metadata) if _table_of(d) in CASES_TABLES]
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        assert diffs == []
        assert set(CASES_TABLES) <= tables

    def test_the_cases_branch_downgrades_alone(self, db_url: str) -> None:
        """Downgrading the cases branch drops its tables and leaves other areas' tables in place."""
        upgrade(db_url)
        command.downgrade(alembic_config(db_url), "cases@0000_base")
        engine = make_engine(db_url)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        assert not set(CASES_TABLES) & tables
        assert "events" in tables
