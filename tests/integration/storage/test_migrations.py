"""Migrations run the same on SQLite and PostgreSQL, are idempotent and match the table definitions."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from orderguard.ingest.schema import EVENT_SCHEMA
from orderguard.storage import make_engine
from orderguard.storage.events_arrow import STORED_SCHEMA
from orderguard.storage.events_tables import events
from orderguard.storage.migrate import alembic_config, upgrade
from orderguard.storage.schema import metadata

MY_TABLES = {events.name}


def _table_of(diff: Any) -> str | None:
    """The table a compare_metadata entry concerns (entries are tuples, or lists of tuples)."""
    if isinstance(diff, list):
        return _table_of(diff[0])
    for item in diff[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        if item is not None and hasattr(item, "columns") and name:
            return str(name)
    return str(diff[2]) if len(diff) > 2 and isinstance(diff[2], str) else None


class TestUpgrade:
    def test_upgrade_twice_is_idempotent(self, db_url: str) -> None:
        """A second upgrade changes nothing, and the database sits at every head, events included."""
        upgrade(db_url)
        engine = make_engine(db_url)
        with engine.connect() as conn:
            first = set(MigrationContext.configure(conn).get_current_heads())
            tables = set(inspect(conn).get_table_names())
        upgrade(db_url)
        with engine.connect() as conn:
            second = set(MigrationContext.configure(conn).get_current_heads())
        engine.dispose()
        heads = set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
        assert first == second == heads
        assert "0001_events" in heads
        assert {"events", "alembic_version"} <= tables

    def test_migrated_schema_matches_the_tables(self, db_url: str) -> None:
        """Autogenerate finds no difference between the migrated events table and its definition."""
        upgrade(db_url)
        engine = make_engine(db_url)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, metadata) if _table_of(d) in MY_TABLES]
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("events")}
        engine.dispose()
        assert diffs == []
        assert {"ix_events_actor_ts_ns", "ix_events_account_ts_ns", "ix_events_order_id"} <= indexes


class TestArrowLayout:
    def test_stored_layout_is_the_ingest_schema_plus_extra(self) -> None:
        """to_arrow's layout is the ingest schema's columns and types, then the JSON ``extra`` column."""
        names_types = [(f.name, f.type) for f in STORED_SCHEMA]
        assert names_types == [(f.name, f.type) for f in EVENT_SCHEMA] + [("extra", pa.string())]
