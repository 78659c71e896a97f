"""Feeding the stream engine from JSON Lines: standard input or a growing file, one event per line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from orderguard.domain.events import Event
from orderguard.ingest import IngestError, batch_from_records


class LineError(ValueError):
    """A line that is not a valid v1 event; names the source and line."""


def follow(path: Path, *, idle_exit: float | None = None, poll: float = 0.1) -> Iterator[str]:
    """Complete lines of a file that keeps growing (like ``tail -f``).

    Stops after ``idle_exit`` seconds without a new line (never, when None).
    A partial last line is held back until its newline arrives.
    """
    with path.open("r", encoding="utf-8") as handle:
        pending = ""
        idle_since = time.monotonic()
        while True:
            chunk = handle.readline()
            if chunk:
                pending += chunk
                if pending.endswith("\n"):
                    yield pending
                    pending = ""
                idle_since = time.monotonic()
                continue
            if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                if pending.strip():
                    yield pending
                return
            time.sleep(poll)


def parse_line(line: str, source: str, number: int, seq: int) -> Event | None:
    """One JSON Lines record as an Event with ``seq``; None for a blank line."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(
            f"{source}, line {number}: not valid JSON ({exc.msg}); fix: one JSON object per line"
        ) from None
    if not isinstance(record, dict):
        raise LineError(f"{source}, line {number}: expected a JSON object, found {type(record).__name__}")
    try:
        batch = batch_from_records([record], source=f"{source}, line {number}", start_seq=seq)
    except IngestError as exc:
        raise LineError(str(exc)) from None
    return next(batch.iter_events())
