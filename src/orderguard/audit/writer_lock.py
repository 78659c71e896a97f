"""One writing process per audit log.

Indexes are assigned by one sequencer; a second process appending to the
same store would assign the same indexes. It would fail on the primary key
rather than overwrite, but only after the caller's action was decided. So a
log takes an exclusive lock when it opens and a second writer is refused at
once, with a message that says who holds the log. SQLite: an ``flock`` on a
file beside the database. PostgreSQL: a session advisory lock, held by a
connection kept open for the log's lifetime. Both are released by the
operating system or the server when the process dies, so a crash never leaves
a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

# An arbitrary, fixed 64-bit key: advisory locks are scoped to the current database.
_PG_LOCK_KEY = 0x6F67_6175_6469_7431  # "ogaudit1"


class AuditWriterBusyError(RuntimeError):
    """Another process holds this audit log open for writing."""


class WriterLock:
    """Held from ``acquire`` until ``release``; refuses at once when another process holds it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._file: IO[str] | None = None
        self._connection: Connection | None = None

    def acquire(self) -> None:
        dialect = self._engine.dialect.name
        if dialect == "sqlite":
            self._lock_file()
        elif dialect == "postgresql":
            self._lock_session()

    def _lock_file(self) -> None:
        database = self._engine.url.database
        if not database or database == ":memory:":
            return  # an in-memory database belongs to this process alone
        path = Path(f"{database}.audit-writer.lock")
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AuditWriterBusyError(
                f"the audit log in {database} is open for writing by another process ({holder}); "
                "stop that process, or send the action through it (e.g. its HTTP API)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _lock_session(self) -> None:
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _PG_LOCK_KEY}).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise AuditWriterBusyError(
                f"the audit log in database {self._engine.url.database!r} is open for writing by another "
                "session; stop that process, or send the action through it (e.g. its HTTP API)"
            )
        self._connection = connection

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
