"""The sequencer's batch writer and the tree rebuilt on reopen, on both backends."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from orderguard.audit.log import AuditLog, AuditLogError
from orderguard.audit.store import AuditStore, BatchWriter
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.integration.audit.helpers import lift_protection, open_log, order_entry


def rows(first: int, count: int) -> tuple[range, list[bytes], list[bytes], list[bytes], list[bytes]]:
    indexes = range(first, first + count)
    leaves = [b"leaf-%d" % n for n in indexes]
    hashes = [hashlib.sha256(leaf).digest() for leaf in leaves]
    return indexes, hashes, leaves, [b"s" * 16] * count, [b"payload-%d" % n for n in indexes]


class TestBatchWriter:
    @pytest.mark.parametrize("max_rows", [4096, 4])
    def test_batches_of_any_size_are_stored_in_order(self, db_url: str, max_rows: int) -> None:
        """Batches of 1 to 4,100 rows (one statement each up to 32 rows, several above or when capped) store
        every row once, intact."""
        upgrade(db_url)
        engine = make_engine(db_url)
        writer = BatchWriter(engine)
        writer._max_rows = max_rows
        first = 0
        for count in (1, 3, 31, 32, 33, 255, 256, 257, 4100):
            writer.write(*rows(first, count))
            first += count
        writer.close()
        stored = [
            (idx, bytes(leaf), bytes(payload or b""))
            for idx, _, leaf, _, payload in AuditStore(engine).iter_entries()
        ]
        engine.dispose()
        assert [idx for idx, _, _ in stored] == list(range(first))
        assert all(
            leaf == b"leaf-%d" % idx and payload == b"payload-%d" % idx for idx, leaf, payload in stored
        )

    def test_failed_batch_leaves_nothing(self, db_url: str) -> None:
        """A batch that hits an existing index is rolled back whole: none of its rows stay in either table."""
        upgrade(db_url)
        engine = make_engine(db_url)
        writer = BatchWriter(engine)
        writer.write(*rows(0, 10))
        with pytest.raises(Exception, match=r"UNIQUE|duplicate key"):
            writer.write(*rows(5, 20))
        writer.write(*rows(10, 5))  # the writer is usable again after the failed batch
        writer.close()
        assert AuditStore(engine).index_bound() == 15
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_payloads")).scalar_one() == 15
        engine.dispose()

    def test_indexes_past_32_bits_are_stored(self, db_url: str) -> None:
        """Indexes of every integer width (small, 32-bit, 64-bit) in one batch are stored exactly."""
        upgrade(db_url)
        engine = make_engine(db_url)
        writer = BatchWriter(engine)
        writer.write(*rows(7, 1))
        indexes = [8, 40_000, 3_000_000_000, 2**40]
        _, hashes, leaves, salts, payloads = rows(0, len(indexes))
        writer.write(indexes, hashes, leaves, salts, payloads)
        writer.close()
        assert [row[0] for row in AuditStore(engine).iter_leaf_hashes()] == [7, *indexes]
        engine.dispose()

    @pytest.mark.postgres
    def test_autocommit_connection_does_not_return_to_the_pool(self, postgres_url: str) -> None:
        """The writer's autocommit connection is closed with it, so no pooled user inherits autocommit."""
        upgrade(postgres_url)
        engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
        writer = BatchWriter(engine)
        writer.write(*rows(0, 3))
        writer.close()
        proxy = engine.raw_connection()
        try:
            assert proxy.driver_connection is not None
            assert proxy.driver_connection.autocommit is False
        finally:
            proxy.close()
        engine.dispose()


class TestReopen:
    def test_tree_rebuilt_across_chunks_equals_the_live_tree(self, db_url: str) -> None:
        """Reopening rebuilds, chunk by chunk, the same head the writing process had."""
        with open_log(db_url) as log:
            log.append_many([order_entry(n) for n in range(300)])
            head = log.head()
        with AuditLog(db_url) as reopened:
            store = reopened.store
            assert reopened.head() == head
        chunks = list(store.leaf_hash_chunks(batch=64))
        assert [len(chunk) for chunk in chunks] == [64, 64, 64, 64, 44]

    def test_missing_entry_is_named_on_reopen(self, db_url: str) -> None:
        """A deleted row in the middle of the log stops the reopen with the missing index."""
        with open_log(db_url) as log:
            log.append_many([order_entry(n) for n in range(40)])
            engine = log.engine
        engine = make_engine(db_url)
        lift_protection(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_payloads WHERE idx = 17"))
            conn.execute(text("DELETE FROM audit_entries WHERE idx = 17"))
        with pytest.raises(AuditLogError, match="entry 17 is missing"):
            AuditLog(engine)
        engine.dispose()

    def test_malformed_leaf_hash_is_named_on_reopen(self, sqlite_url: str) -> None:
        """A leaf hash of the wrong length stops the reopen and is named, instead of shifting the tree."""
        with open_log(sqlite_url) as log:
            log.append_many([order_entry(n) for n in range(10)])
        engine = make_engine(sqlite_url)
        lift_protection(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_entries SET leaf_hash = x'00' WHERE idx = 6"))
        with pytest.raises(AuditLogError, match="entry 6 has a 1-byte leaf hash"):
            AuditLog(engine)
        engine.dispose()
