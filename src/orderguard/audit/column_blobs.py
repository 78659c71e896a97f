"""Reading an aligned range of the log as column blobs: one value per column, lengths beside it.

The database concatenates each column over the range (SQLite ``group_concat``
cast back to BLOB, PostgreSQL ``string_agg`` over an ordered index scan) and
lists the value lengths (SQLite: its own integer text; PostgreSQL: ``int4send``,
4 bytes each), so a range of 32,768 entries arrives as a handful of Python
objects instead of five per row. The database computes no hash here: it only
hands back what it stores; ``bulk.py`` checks it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Lengths = NDArray[np.int64]

_BOUNDS = (
    "SELECT (SELECT min(idx) FROM {table} WHERE idx >= {mark} AND idx < {mark}), "
    "(SELECT max(idx) FROM {table} WHERE idx >= {mark} AND idx < {mark})"
)  # two index lookups each, not a pass over the rows
_SQLITE_ENTRIES = (
    "SELECT sum(length(leaf_hash) <> 32), CAST(group_concat(leaf_hash, '') AS BLOB), "
    "CAST(group_concat(leaf, '') AS BLOB), group_concat(length(leaf)) "
    "FROM audit_entries WHERE idx >= ? AND idx < ?"
)
_SQLITE_PAYLOADS = (
    "SELECT CAST(group_concat(salt || payload, '') AS BLOB), group_concat(length(salt) + length(payload)) "
    "FROM audit_payloads WHERE idx >= ? AND idx < ?"
)
_SQLITE_PAYLOAD_IDXS = "SELECT group_concat(idx) FROM audit_payloads WHERE idx >= ? AND idx < ?"
# PostgreSQL before 16 sorts the input of every ORDER BY aggregate separately: an ordered subquery
# (an index range scan) feeds all of them once. If the order were ever lost, the checks below fail
# and the range is scanned row by row with an explicit ORDER BY: slower, never wrong.
_PG_ENTRIES = (
    "SELECT sum((length(leaf_hash) <> 32)::int), string_agg(leaf_hash, ''::bytea), "
    "string_agg(leaf, ''::bytea), string_agg(int4send(length(leaf)), ''::bytea) "
    "FROM (SELECT leaf_hash, leaf FROM audit_entries WHERE idx >= %s AND idx < %s ORDER BY idx) e"
)
_PG_PAYLOADS = (
    "SELECT string_agg(salt || payload, ''::bytea), "
    "string_agg(int4send(length(salt) + length(payload)), ''::bytea) "
    "FROM (SELECT salt, payload FROM audit_payloads WHERE idx >= %s AND idx < %s ORDER BY idx) p"
)
_PG_PAYLOAD_IDXS = (
    "SELECT string_agg(int8send(idx), ''::bytea) "
    "FROM (SELECT idx FROM audit_payloads WHERE idx >= %s AND idx < %s ORDER BY idx) p"
)


@dataclass(frozen=True, slots=True)
class RangeBlobs:
    """One aligned range as column blobs: entries, their payloads, and where the payload rows are."""

    bounds: tuple[int | None, int | None]  # lowest and highest stored entry index in the range
    odd_hashes: int  # stored leaf hashes that are not 32 bytes wide
    stored_hashes: bytes
    leaves: bytes
    leaf_lengths: Lengths
    payload_bounds: tuple[int | None, int | None]
    commit_inputs: bytes  # salt || payload of every payload row, back to back
    commit_lengths: Lengths
    payload_idxs: Lengths | None  # only fetched when the payload rows are fewer than the entries


def _int_list(text: str | None) -> Lengths:
    """SQLite's comma-separated integers (it writes them itself) as an array, parsed in C."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def _big_endian(blob: bytes | None, width: int) -> Lengths:
    if not blob:
        return np.zeros(0, dtype=np.int64)
    return np.frombuffer(blob, dtype=f">i{width}").astype(np.int64)


def fetch_blobs(conn: Any, postgres: bool, start: int, end: int) -> RangeBlobs:
    """The range ``start <= idx < end`` as column blobs: a few queries with one result row each."""
    mark = "%s" if postgres else "?"
    cursor = conn.cursor(binary=True) if postgres else conn.cursor()
    span = (start, end, start, end)
    try:
        cursor.execute(_BOUNDS.format(table="audit_entries", mark=mark), span)
        bounds = cursor.fetchone()
        cursor.execute(_PG_ENTRIES if postgres else _SQLITE_ENTRIES, (start, end))
        odd_hashes, hashes, leaves, leaf_lengths = cursor.fetchone()
        cursor.execute(_BOUNDS.format(table="audit_payloads", mark=mark), span)
        payload_bounds = cursor.fetchone()
        cursor.execute(_PG_PAYLOADS if postgres else _SQLITE_PAYLOADS, (start, end))
        commit_inputs, commit_lengths = cursor.fetchone()
        lengths = _big_endian(leaf_lengths, 4) if postgres else _int_list(leaf_lengths)
        commits = _big_endian(commit_lengths, 4) if postgres else _int_list(commit_lengths)
        payload_idxs = None
        if len(commits) != len(lengths):  # erased (or deleted) payloads: say which rows are still there
            cursor.execute(_PG_PAYLOAD_IDXS if postgres else _SQLITE_PAYLOAD_IDXS, (start, end))
            (listed,) = cursor.fetchone()
            payload_idxs = _big_endian(listed, 8) if postgres else _int_list(listed)
    finally:
        cursor.close()
        if postgres:
            conn.rollback()
    return RangeBlobs(
        bounds=(bounds[0], bounds[1]),
        odd_hashes=int(odd_hashes or 0),
        stored_hashes=bytes(hashes or b""),
        leaves=bytes(leaves or b""),
        leaf_lengths=lengths,
        payload_bounds=(payload_bounds[0], payload_bounds[1]),
        commit_inputs=bytes(commit_inputs or b""),
        commit_lengths=commits,
        payload_idxs=payload_idxs,
    )


def fetch_blobs_or_none(conn: Any, postgres: bool, start: int, end: int) -> RangeBlobs | None:
    """The range's blobs, or None if the database refuses to build them.

    A range whose column exceeds the largest value the database makes (SQLite: 1 GB by default;
    ``string or blob too big``) is read as rows instead.
    """
    if postgres:
        import psycopg

        refused: type[Exception] = psycopg.Error
    else:
        refused = sqlite3.Error
    try:
        return fetch_blobs(conn, postgres, start, end)
    except refused:
        return None
