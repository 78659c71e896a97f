"""Load event files into the store: read and check every file first, then append them all at once.

This is the service behind ``orderguard events load``: either every event of
every file is stored, in the order given, or nothing is. A bad file (or an
event_id repeated across files) stops the load before anything is written;
an event_id already stored stops it inside the one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orderguard.storage.engine import DEFAULT_URL, make_engine
from orderguard.storage.events_store import EventStore
from orderguard.storage.migrate import upgrade


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load stored: ``rows`` events from ``files``, with sequence numbers ``first_seq..last_seq``."""

    files: tuple[str, ...]
    rows: int
    first_seq: int
    last_seq: int


def load_files(paths: Sequence[Path | str], url: str = DEFAULT_URL) -> LoadReport:
    """Read, check and store ``paths`` (JSON Lines, CSV, Parquet) in the database at ``url``.

    Errors: ``orderguard.ingest.IngestError`` (names file, row and field) for a
    bad file, ``DuplicateEventError`` for an event_id already stored. The
    database is migrated first, so a fresh file or server works.
    """
    # Imported here: storage does not depend on the intake stage at import time.
    from orderguard.ingest import read_events

    batch = read_events(paths)
    upgrade(url)
    engine = make_engine(url)
    try:
        result = EventStore(engine).append_batch(batch.table)
    finally:
        engine.dispose()
    return LoadReport(tuple(str(p) for p in paths), result.rows, result.first_seq, result.last_seq)
