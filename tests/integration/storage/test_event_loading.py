"""load_files: event files into the store, every file or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orderguard.domain import parse_ts
from orderguard.ingest import IngestError
from orderguard.storage import make_engine
from orderguard.storage.event_loading import load_files
from orderguard.storage.events_store import FIRST_SEQ, DuplicateEventError, EventStore
from tests.integration.storage.event_batches import event_batch


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


LOGIN = {"ts": "2026-11-20T14:30:00.123456789Z", "kind": "login", "actor": "alice"}


def stored(url: str) -> EventStore:
    return EventStore(make_engine(url))


class TestLoadFiles:
    def test_loads_files_of_different_formats_in_order(self, db_url: str, tmp_path: Path) -> None:
        """A Parquet file and a JSON Lines file land in one load, in the order given, extras kept."""
        parquet = tmp_path / "day.parquet"
        pq.write_table(event_batch(20).drop_columns(["seq"]), parquet)
        jsonl = write_jsonl(tmp_path / "logins.jsonl", [{**LOGIN, "event_id": "L1", "desk": "equities"}])
        report = load_files([parquet, jsonl], db_url)
        assert (report.rows, report.first_seq, report.last_seq) == (21, FIRST_SEQ, FIRST_SEQ + 20)
        store = stored(db_url)
        assert store.count() == 21
        (login,) = store.by_actor("alice")
        assert login.ts == parse_ts(str(LOGIN["ts"]))
        assert login.seq == FIRST_SEQ + 20
        assert dict(login.extra) == {"desk": "equities"}
        store.engine.dispose()

    def test_bad_file_writes_nothing(self, db_url: str, tmp_path: Path) -> None:
        """A file with a bad row stops the load before anything is written, naming the file."""
        good = write_jsonl(tmp_path / "good.jsonl", [{**LOGIN, "event_id": "G1"}])
        bad = write_jsonl(tmp_path / "bad.jsonl", [{**LOGIN, "event_id": "B1", "kind": "teleport"}])
        with pytest.raises(IngestError, match=r"bad\.jsonl"):
            load_files([good, bad], db_url)
        load_files([good], db_url)
        assert stored(db_url).count() == 1

    def test_already_stored_event_writes_nothing(self, db_url: str, tmp_path: Path) -> None:
        """Loading a file whose event_id is already stored is refused whole."""
        first = write_jsonl(tmp_path / "first.jsonl", [{**LOGIN, "event_id": "A1"}])
        second = write_jsonl(
            tmp_path / "second.jsonl", [{**LOGIN, "event_id": "A2"}, {**LOGIN, "event_id": "A1"}]
        )
        load_files([first], db_url)
        with pytest.raises(DuplicateEventError, match=r"'A1'.*already stored"):
            load_files([second], db_url)
        store = stored(db_url)
        assert [e.event_id for e in store.by_actor("alice")] == ["A1"]
        store.engine.dispose()
