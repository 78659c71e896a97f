"""Database access for the audit log: the batch writer used by the sequencer, and readers.

The hot paths (batch insert, bulk reads for verification) use the driver
connection directly with the backend's placeholder style; everything else
goes through SQLAlchemy Core.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from orderguard.audit.scan import Source, StoredEntry
from orderguard.storage.audit_tables import audit_checkpoints, audit_entries, audit_erasures, audit_payloads
from orderguard.storage.engine import write_turn

_ENTRY_SQL = "INSERT INTO audit_entries (idx, leaf_hash, leaf) VALUES "
_PAYLOAD_SQL = "INSERT INTO audit_payloads (idx, salt, payload) VALUES "
# PostgreSQL: both tables in one statement, columns sent as binary arrays. Run in autocommit it is its
# own transaction: one round trip per batch where two COPYs and a COMMIT took five (a third of the
# client CPU per 32-entry batch, half the wall time). Prepared once per connection.
_PG_BATCH_SQL = (
    "WITH entries AS (INSERT INTO audit_entries (idx, leaf_hash, leaf) "
    "SELECT * FROM unnest(%b::int8[], %b::bytea[], %b::bytea[])) "
    "INSERT INTO audit_payloads (idx, salt, payload) "
    "SELECT * FROM unnest(%b::int8[], %b::bytea[], %b::bytea[])"
)
_EXACT_ROWS = 32  # SQLite: a batch up to this size is one statement per table, larger ones a few
_MAX_ROWS_PER_STATEMENT = 4096  # 12,288 bound values; capped lower when SQLite's variable limit is lower
MAX_RANGE = 10_000  # entries per range read: a page or a bundle chunk, never the whole log in memory


class AuditRangeError(ValueError):
    """A range read asked for entries the log does not hold (or too many at once); the message says which."""


class BatchWriter:
    """One driver connection that writes a batch of entries in one transaction (one sync per batch)."""

    def __init__(self, engine: Engine) -> None:
        self._proxy = engine.raw_connection()
        conn: Any = self._proxy.driver_connection
        self._conn = conn
        self._postgres = engine.dialect.name == "postgresql"
        self._turn = write_turn(engine)
        # Statement texts for power-of-two row counts: any batch is a few of them, each compiled once.
        self._statements: dict[tuple[str, int], str] = {}
        self._max_rows = _MAX_ROWS_PER_STATEMENT
        if self._postgres:
            conn.rollback()  # the pool's pre-ping may have left a transaction open
            conn.autocommit = True  # each batch statement commits itself, flush included
            self._cursor = conn.cursor(binary=True)
        else:
            variables = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            while self._max_rows > 1 and 3 * self._max_rows > variables:
                self._max_rows //= 2

    def write(
        self,
        indexes: Sequence[int],
        leaf_hashes: Sequence[bytes],
        leaves: Sequence[bytes],
        salts: Sequence[bytes],
        payloads: Sequence[bytes],
    ) -> None:
        """Insert the entry and payload rows (column by column, same order) durably in one transaction.

        On an error nothing of the batch is stored (rolled back), and the error is raised.
        """
        if self._postgres:  # one statement, one implicit transaction: all rows or none
            numbers = list(indexes)
            self._cursor.execute(
                _PG_BATCH_SQL,
                (numbers, list(leaf_hashes), list(leaves), numbers, list(salts), list(payloads)),
                prepare=True,
            )
            return
        # The blackout-book writer shares SQLite's write lock: take it in turn (storage.engine.write_turn).
        with self._turn:
            cursor = self._conn.cursor()
            try:
                self._insert(cursor, _ENTRY_SQL, indexes, leaf_hashes, leaves)
                self._insert(cursor, _PAYLOAD_SQL, indexes, salts, payloads)
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                cursor.close()

    def _insert(
        self, cursor: Any, head: str, first: Sequence[Any], second: Sequence[Any], third: Any
    ) -> None:
        # Few, large multi-row statements: each sqlite3_step releases the GIL and must win it back
        # from busy callers (up to a switch interval), so the count of steps per batch is what costs.
        # A batch of up to _EXACT_ROWS rows (what single-entry callers make) is one statement of exactly
        # that size; a larger one is one statement per set bit of n (at most _max_rows rows each). So at
        # most 32 + 7 texts per table: within the sqlite3 module's cache of 128 prepared statements.
        # bytearray, not bytes: sqlite3 binds exact int/float/str/bytearray directly but sends every
        # bytes value through its adapter lookup first, which costs more than the copy (callgrind).
        count = len(first)
        values: list[Any] = [None] * (3 * count)
        values[0::3], values[1::3], values[2::3] = first, map(bytearray, second), map(bytearray, third)
        start = 0
        while start < count:
            left = count - start
            if left <= _EXACT_ROWS and left <= self._max_rows:
                rows = left
            else:
                rows = min(self._max_rows, 1 << (left.bit_length() - 1))
            cursor.execute(self._statement(head, rows), values[3 * start : 3 * (start + rows)])
            start += rows

    def _statement(self, head: str, rows: int) -> str:
        text = self._statements.get((head, rows))
        if text is None:
            text = self._statements[head, rows] = head + ",".join(["(?,?,?)"] * rows)
        return text

    def close(self) -> None:
        if self._postgres:
            # Autocommit and a prepared statement must not travel back into the pool to other users.
            self._proxy.detach()
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

    def leaf_hash_chunks(self, batch: int = 65_536) -> Iterator[list[tuple[int, bytes]]]:
        """(idx, stored leaf hash) rows in index order, as lists of up to ``batch`` rows (no per-row work)."""
        yield from self._raw_chunks("SELECT idx, leaf_hash FROM audit_entries ORDER BY idx", batch)

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

    def index_bound(self) -> int:
        """One past the highest stored index (0 when empty): where a full scan stops."""
        with self.engine.connect() as conn:
            highest = conn.execute(select(func.max(audit_entries.c.idx))).scalar()
        return 0 if highest is None else int(highest) + 1

    def next_index_from(self, idx: int) -> int | None:
        """The lowest stored index at or above ``idx``, if any."""
        with self.engine.connect() as conn:
            found = conn.execute(select(func.min(audit_entries.c.idx)).where(audit_entries.c.idx >= idx))
            value = found.scalar()
        return None if value is None else int(value)

    def source(self) -> Source | None:
        """How another process opens this store, or None if it cannot (an in-memory SQLite database)."""
        url = self.engine.url
        if url.get_backend_name() == "postgresql":
            return Source(
                "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            return Source("sqlite", url.database)
        return None

    @contextlib.contextmanager
    def raw_connection(self) -> Iterator[tuple[Any, bool]]:
        """(driver connection, is PostgreSQL) from the engine's pool, returned when done."""
        proxy = self.engine.raw_connection()
        try:
            yield proxy.driver_connection, self.engine.dialect.name == "postgresql"
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

    def entries(self, start: int, stop: int) -> list[StoredEntry]:
        """Entries ``start`` to ``stop - 1`` with their payloads (None once erased), in index order, in one
        query; AuditRangeError unless every one of them is stored and the range is at most MAX_RANGE long."""
        if start < 0 or stop < start or stop - start > MAX_RANGE:
            raise AuditRangeError(
                f"audit entries [{start}, {stop}): ask for 0 <= start <= stop with at most {MAX_RANGE} "
                "entries per read"
            )
        if start == stop:
            return []
        query = (
            select(audit_entries.c.idx, audit_entries.c.leaf_hash, audit_entries.c.leaf)
            .add_columns(audit_payloads.c.salt, audit_payloads.c.payload)
            .select_from(audit_entries.outerjoin(audit_payloads, audit_payloads.c.idx == audit_entries.c.idx))
            .where(audit_entries.c.idx >= start, audit_entries.c.idx < stop)
            .order_by(audit_entries.c.idx)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if len(rows) != stop - start:
            bound = self.index_bound()
            held = f"entries 0 to {bound - 1}" if bound else "no entries yet"
            raise AuditRangeError(
                f"audit entries [{start}, {stop}): the log holds {held}; ask for a range inside it"
            )
        return [(row[0], bytes(row[1]), bytes(row[2]), _bytes(row[3]), _bytes(row[4])) for row in rows]

    def insert_checkpoint(self, size: int, key_name: str, note: str) -> None:
        """Store a signed note unless this key already signed this size (Ed25519 is deterministic)."""
        insert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        statement = insert(audit_checkpoints).values(
            size=size, key_name=key_name, note=note, created_at_ns=time.time_ns()
        )
        with write_turn(self.engine), self.engine.begin() as conn:
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


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
