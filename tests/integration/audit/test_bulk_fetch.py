"""Column blobs fetched from a real store give the bulk scan exactly what the row fetch gives the row scan."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from orderguard.audit.bulk import scan_blobs, scan_range_at
from orderguard.audit.column_blobs import fetch_blobs
from orderguard.audit.keys import NoteSigner
from orderguard.audit.scan import RangeScan, fetch_columns, scan_columns
from orderguard.audit.store import AuditStore
from orderguard.storage import make_engine
from tests.integration.audit.helpers import filled_log, lift_protection

SIZE = 300
RANGE = 128  # two full ranges and a short last one


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    filled_log(db_url, NoteSigner.generate("audit-key"), SIZE, checkpoint_each=False)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def both_scans(engine: Engine, start: int) -> tuple[RangeScan | None, RangeScan]:
    with AuditStore(engine).raw_connection() as (conn, postgres):
        fast = scan_blobs(start, fetch_blobs(conn, postgres, start, start + RANGE))
        slow = scan_columns(start, fetch_columns(conn, postgres, start, start + RANGE))
    return fast, slow


class TestBulkFetch:
    def test_intact_ranges_pass_in_bulk_like_rows(self, engine: Engine) -> None:
        """Each range of an intact log, the short last one too, passes in bulk with the row scan's levels."""
        for start in (0, RANGE, 2 * RANGE):
            fast, slow = both_scans(engine, start)
            assert fast is not None, start
            assert (fast.levels, fast.suspects, fast.gap) == (slow.levels, slow.suspects, slow.gap)

    def test_missing_payload_row_named_in_bulk(self, engine: Engine) -> None:
        """A payload row gone from the store comes back as the only suspect of its range."""
        lift_protection(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_payloads WHERE idx = 140"))
        fast, slow = both_scans(engine, RANGE)
        assert fast is not None
        assert [row[0] for row in fast.suspects] == [140]
        assert fast.suspects == slow.suspects

    def test_edited_leaf_range_goes_row_by_row(self, engine: Engine) -> None:
        """An edited leaf fails the bulk check; the range scan then names that row from the rows."""
        lift_protection(engine)
        with engine.begin() as conn:
            leaf = bytes(conn.execute(text("SELECT leaf FROM audit_entries WHERE idx = 5")).scalar_one())
            conn.execute(
                text("UPDATE audit_entries SET leaf = :leaf WHERE idx = 5"),
                {"leaf": leaf.replace(b"trader-7", b"trader-8")},
            )
        fast, _ = both_scans(engine, 0)
        assert fast is None
        with AuditStore(engine).raw_connection() as (conn, postgres):
            scan = scan_range_at(conn, postgres, 0, RANGE)
        assert [row[0] for row in scan.suspects] == [5]


class TestBlobLimit:
    def test_range_too_big_for_one_value_is_read_by_rows(self, sqlite_url: str) -> None:
        """When SQLite refuses to build a column blob (length limit), the range is scanned by rows alike."""
        filled_log(sqlite_url, NoteSigner.generate("audit-key"), 40, checkpoint_each=False)
        engine = make_engine(sqlite_url)
        try:
            with AuditStore(engine).raw_connection() as (conn, postgres):
                expected = scan_columns(0, fetch_columns(conn, postgres, 0, RANGE))
                conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)  # a few leaves' worth
                with pytest.raises(sqlite3.DataError):
                    fetch_blobs(conn, postgres, 0, RANGE)
                scan = scan_range_at(conn, postgres, 0, RANGE)
                conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1_000_000_000)
        finally:
            engine.dispose()
        assert (scan.levels, scan.suspects, scan.gap) == (expected.levels, expected.suspects, expected.gap)
