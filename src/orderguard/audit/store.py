"""Database access for the audit log: the batch writer used by the sequencer, and readers.

The hot paths (batch insert, bulk reads for verification) use the driver
connection directly with the backend's placeholder style; everything else
goes through SQLAlchemy Core.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from orderguard.storage.audit_tables import audit_checkpoints, audit_entries, audit_erasures, audit_payloads

EntryRow = tuple[int, bytes, bytes]  # idx, leaf_hash, leaf
PayloadRow = tuple[int, bytes, bytes]  # idx, salt, payload
StoredEntry = tuple[int, bytes, bytes, bytes | None, bytes | None]  # idx, leaf_hash, leaf, salt, payload


class BatchWriter:
    """One driver connection that writes a batch of entries in one transaction (one sync per batch)."""

    def __init__(self, engine: Engine) -> None:
        self._proxy = engine.raw_connection()
        self._conn: Any = self._proxy.driver_connection
        self._postgres = engine.dialect.name == "postgresql"

    def write(self, entries: Sequence[EntryRow], payloads: Sequence[PayloadRow]) -> None:
        """Insert both row sets and commit; on error roll back and re-raise."""
        cursor = self._conn.cursor()
        try:
            if self._postgres:  # COPY: far cheaper per row than executemany for large batches
                for table, columns, rows in (
                    ("audit_entries", "idx, leaf_hash, leaf", entries),
                    ("audit_payloads", "idx, salt, payload", payloads),
                ):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cursor.executemany(
                    "INSERT INTO audit_entries (idx, leaf_hash, leaf) VALUES (?, ?, ?)", entries
                )
                cursor.executemany(
                    "INSERT INTO audit_payloads (idx, salt, payload) VALUES (?, ?, ?)", payloads
                )
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        self._proxy.close()


class AuditStore:
    """Reads and the rare writes (checkpoints, erasures) of the audit tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def iter_leaf_hashes(self, batch: int = 50_000) -> Iterator[tuple[int, bytes]]:
        """(idx, stored leaf hash) in index order, streamed."""
        for idx, leaf_hash, *_ in self._raw_rows(
            "SELECT idx, leaf_hash FROM audit_entries ORDER BY idx", batch
        ):
            yield idx, bytes(leaf_hash)

    def iter_entry_chunks(self, batch: int = 50_000) -> Iterator[list[StoredEntry]]:
        """Every entry with its payload (None once erased), in index order, as lists of up to ``batch`` rows.

        Both drivers return BLOB/bytea columns as ``bytes``; rows come straight from ``fetchmany``
        because per-row conversion would cost as much as the hashing verification does.
        """
        sql = (
            "SELECT e.idx, e.leaf_hash, e.leaf, p.salt, p.payload FROM audit_entries e "
            "LEFT JOIN audit_payloads p ON p.idx = e.idx ORDER BY e.idx"
        )
        yield from self._raw_chunks(sql, batch)

    def iter_entries(self, batch: int = 50_000) -> Iterator[StoredEntry]:
        """Every entry with its payload (None once erased), in index order."""
        for chunk in self.iter_entry_chunks(batch):
            yield from chunk

    def _raw_rows(self, sql: str, batch: int) -> Iterator[tuple[Any, ...]]:
        for chunk in self._raw_chunks(sql, batch):
            yield from chunk

    def _raw_chunks(self, sql: str, batch: int) -> Iterator[list[Any]]:
        proxy = self.engine.raw_connection()
        try:
            conn: Any = proxy.driver_connection
            # A named (server-side) cursor streams on PostgreSQL instead of loading every row;
            # binary transfer sends bytea as raw bytes rather than hex text.
            if self.engine.dialect.name == "postgresql":
                cursor = conn.cursor("audit_scan", binary=True)
            else:
                cursor = conn.cursor()
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows
            cursor.close()
            conn.rollback()
        finally:
            proxy.close()

    def entry(self, idx: int) -> StoredEntry | None:
        query = (
            select(audit_entries.c.idx, audit_entries.c.leaf_hash, audit_entries.c.leaf)
            .add_columns(audit_payloads.c.salt, audit_payloads.c.payload)
            .select_from(audit_entries.outerjoin(audit_payloads, audit_payloads.c.idx == audit_entries.c.idx))
            .where(audit_entries.c.idx == idx)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def insert_checkpoint(self, size: int, key_name: str, note: str) -> None:
        """Store a signed note unless this key already signed this size (Ed25519 is deterministic)."""
        insert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        statement = insert(audit_checkpoints).values(
            size=size, key_name=key_name, note=note, created_at_ns=time.time_ns()
        )
        with self.engine.begin() as conn:
            conn.execute(statement.on_conflict_do_nothing())

    def checkpoints(self) -> list[tuple[int, str, str]]:
        """(size, key name, note) of every stored checkpoint, smallest size first."""
        query = select(audit_checkpoints.c.size, audit_checkpoints.c.key_name, audit_checkpoints.c.note)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(audit_checkpoints.c.size, audit_checkpoints.c.key_name))
            return [(row[0], row[1], row[2]) for row in rows]

    def erasures(self) -> dict[int, tuple[int, str]]:
        """Erased index -> (index of the erasure entry, reason)."""
        query = select(audit_erasures.c.idx, audit_erasures.c.erasure_idx, audit_erasures.c.reason)
        with self.engine.connect() as conn:
            return {row[0]: (row[1], row[2]) for row in conn.execute(query)}

    def record_erasure(self, idx: int, erasure_idx: int, reason: str) -> None:
        """Record the erasure, then delete the payload and salt, in one transaction."""
        with self.engine.begin() as conn:
            conn.execute(
                audit_erasures.insert().values(
                    idx=idx, erasure_idx=erasure_idx, reason=reason, erased_at_ns=time.time_ns()
                )
            )
            conn.execute(audit_payloads.delete().where(audit_payloads.c.idx == idx))
