"""Bulk paths between Arrow and the ``events`` table on each backend, below SQLAlchemy's row layer.

They run on the driver connection of a SQLAlchemy ``Connection`` so that they
share its transaction. SQLite: ``executemany`` over tuples, a chunk at a time.
PostgreSQL: ``COPY`` in CSV, which Arrow writes and reads in C. In PostgreSQL
CSV an unquoted empty field is NULL and ``""`` is the empty string; Arrow's
writer quotes every string, so the two never mix.
"""

from __future__ import annotations

import io
import sqlite3
from typing import Final

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, exc

from orderguard.storage.events_tables import EVENT_COLUMNS

UNIQUE_VIOLATIONS: Final = (sqlite3.IntegrityError, psycopg.errors.UniqueViolation, exc.IntegrityError)

CHUNK_ROWS: Final = 50_000
BULK_CACHE_KIB: Final = -262_144  # negative: KiB, so 256 MiB of page cache while a batch goes in
_COLUMN_LIST: Final = ", ".join(EVENT_COLUMNS)
_INSERT_SQLITE: Final = f"INSERT INTO events ({_COLUMN_LIST}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
_COPY_IN: Final = f"COPY events ({_COLUMN_LIST}) FROM STDIN (FORMAT csv)"

# Arrow types of the table's columns (ts_ns as int64), for reading rows back.
COLUMN_TYPES: Final = {
    name: (
        pa.int64()
        if name in ("seq", "ts_ns", "records")
        else pa.float64()
        if name in ("qty", "price")
        else pa.string()
    )
    for name in EVENT_COLUMNS
}


def insert_into_sqlite(conn: Connection, rows: pa.Table) -> None:
    """Insert ``rows`` (table-column order, ``seq`` included) in the connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # Five indexes take random inserts; with SQLite's 2 MB default page cache a large batch spends
    # its time moving pages in and out. The bigger cache is allocated lazily and given back after.
    default_cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size={BULK_CACHE_KIB}")
    try:
        for batch in rows.to_batches(max_chunksize=CHUNK_ROWS):
            columns = [column.to_pylist() for column in batch.columns]
            cursor.executemany(_INSERT_SQLITE, zip(*columns, strict=True))
    finally:
        cursor.execute(f"PRAGMA cache_size={int(default_cache)}")
        cursor.close()


def copy_into_postgres(conn: Connection, rows: pa.Table) -> None:
    """COPY ``rows`` (table-column order, ``seq`` included) in the connection's transaction."""
    driver: psycopg.Connection[object] = conn.connection.driver_connection  # type: ignore[assignment]
    options = pacsv.WriteOptions(include_header=False)
    with driver.cursor() as cursor, cursor.copy(_COPY_IN) as copy:
        for batch in rows.to_batches(max_chunksize=CHUNK_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())


def _range_sql(start_ns: int | None, end_ns: int | None) -> str:
    # Both bounds are coerced to int, so they are safe to inline (COPY takes no bound parameters).
    conditions = []
    if start_ns is not None:
        conditions.append(f"ts_ns >= {int(start_ns)}")
    if end_ns is not None:
        conditions.append(f"ts_ns < {int(end_ns)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {_COLUMN_LIST} FROM events{where} ORDER BY ts_ns, seq"


def select_from_sqlite(
    conn: Connection, start_ns: int | None, end_ns: int | None
) -> dict[str, pa.ChunkedArray]:
    """Stored rows in ``[start_ns, end_ns)`` as Arrow columns named like the table's."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    chunks: dict[str, list[pa.Array]] = {name: [] for name in EVENT_COLUMNS}
    try:
        cursor.execute(_range_sql(start_ns, end_ns))
        while rows := cursor.fetchmany(CHUNK_ROWS):
            for name, values in zip(EVENT_COLUMNS, zip(*rows, strict=True), strict=True):
                chunks[name].append(pa.array(values, COLUMN_TYPES[name]))
    finally:
        cursor.close()
    return {name: pa.chunked_array(parts, COLUMN_TYPES[name]) for name, parts in chunks.items()}


def copy_out_of_postgres(
    conn: Connection, start_ns: int | None, end_ns: int | None
) -> dict[str, pa.ChunkedArray]:
    """Stored rows in ``[start_ns, end_ns)`` as Arrow columns named like the table's."""
    driver: psycopg.Connection[object] = conn.connection.driver_connection  # type: ignore[assignment]
    buffer = io.BytesIO()
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY ({_range_sql(start_ns, end_ns)}) TO STDOUT (FORMAT csv)") as copy,
    ):
        for data in copy:
            buffer.write(data)
    if buffer.tell() == 0:
        return {name: pa.chunked_array([], COLUMN_TYPES[name]) for name in EVENT_COLUMNS}
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(EVENT_COLUMNS)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=COLUMN_TYPES,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return {name: table.column(name) for name in EVENT_COLUMNS}
