"""Engines for the two supported backends.

SQLite is the embedded default: one file, WAL journal, ``synchronous=FULL``
so that a committed transaction survives power loss, and a busy timeout so
that concurrent writers queue instead of failing. PostgreSQL is reached
through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_URL: Final = "sqlite:///orderguard.db"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's durability settings applied."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database URL {url!r}; use sqlite:///PATH or postgresql://...")


_SQLITE_WRITE_TURNS: dict[str, threading.Lock] = {}
_TURNS_GUARD = threading.Lock()


def write_turn(engine: Engine) -> contextlib.AbstractContextManager[object]:
    """Held around a hot-path write transaction so this process's writers take SQLite's lock in turn.

    SQLite has one write lock per database. Two group-commit writers (the audit sequencer and the
    blackout book) that collide do not queue: the loser sleeps in SQLite's busy handler for 1, 2,
    5 ... up to 100 ms, which showed up as the order path's p99. One in-process lock per database
    file makes them take turns instead. PostgreSQL locks rows, so it needs no turn.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return contextlib.nullcontext()
    key = os.path.realpath(database)
    with _TURNS_GUARD:
        return _SQLITE_WRITE_TURNS.setdefault(key, threading.Lock())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
