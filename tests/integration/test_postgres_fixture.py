"""The throwaway PostgreSQL cluster works and both backends get the durability settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from orderguard.storage import make_engine


@pytest.mark.postgres
def test_postgres_cluster_answers(postgres_url: str) -> None:
    """A fresh database on the test cluster accepts a query."""
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(text("select 1 + 1")).scalar() == 2
    engine.dispose()


def test_sqlite_is_wal_and_synchronous_full(sqlite_url: str) -> None:
    """SQLite engines run in WAL mode with synchronous=FULL (2)."""
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
        assert conn.execute(text("pragma synchronous")).scalar() == 2
    engine.dispose()
