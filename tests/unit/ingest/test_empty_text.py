"""Intake decides once: optional text that arrives empty is stored as absent, in every reader."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orderguard.domain.events import COMMON_REQUIRED, STRING_FIELDS
from orderguard.ingest import IngestError, batch_from_records, read_events
from tests.unit.ingest.files import FORMATS, order, write

OPTIONAL_TEXT = [name for name in STRING_FIELDS if name not in COMMON_REQUIRED]
# A login requires nothing beyond the common fields, so every optional text field may be empty.
EMPTY_LOGIN: dict[str, object] = {
    "event_id": "e-empty",
    "ts": "2026-11-20T14:30:00Z",
    "kind": "login",
    "actor": "alice",
    **dict.fromkeys(OPTIONAL_TEXT, ""),
}
FILLED_LOGIN: dict[str, object] = {**EMPTY_LOGIN, "event_id": "e-filled", "ip": "10.0.0.7", "venue": ""}


def _column_values(table: pa.Table, name: str) -> list[object]:
    return list(table.column(name).to_pylist())


class TestEveryReader:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_empty_optional_text_is_absent(self, tmp_path: Path, fmt: str) -> None:
        """Each file format stores every empty optional text field as null, and keeps filled ones."""
        batch = read_events([write(tmp_path, [EMPTY_LOGIN, FILLED_LOGIN], fmt)])
        for name in OPTIONAL_TEXT:
            expected = [None, "10.0.0.7"] if name == "ip" else [None, None]
            assert _column_values(batch.table, name) == expected, name

    def test_records_empty_optional_text_is_absent(self) -> None:
        """In-memory records (the API's batch upload, the stream's fallback) get the same treatment."""
        batch = batch_from_records([EMPTY_LOGIN])
        [event] = batch.iter_events()
        assert all(getattr(event, name) is None for name in OPTIONAL_TEXT)

    def test_parquet_empty_strings_typed_column(self, tmp_path: Path) -> None:
        """A Parquet file whose string column holds "" (not null) is normalised like the others."""
        path = tmp_path / "typed.parquet"
        rows = [order("e1", venue="", ip=""), order("e2", venue="XNYS", ip="")]
        table = pa.table({k: pa.array([r.get(k) for r in rows]) for k in rows[0]})
        pq.write_table(table, path)
        batch = read_events([path])
        assert _column_values(batch.table, "venue") == [None, "XNYS"]
        assert _column_values(batch.table, "ip") == [None, None]

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_required_field_empty_is_still_an_error(self, tmp_path: Path, fmt: str) -> None:
        """An empty field the kind requires is refused, not quietly turned into absent."""
        path = write(tmp_path, [order("e1", symbol="")], fmt)
        with pytest.raises(IngestError, match="symbol"):
            read_events([path])

    def test_text_with_spaces_is_kept(self) -> None:
        """Only the empty string counts as absent; a value of spaces is kept as written."""
        [event] = batch_from_records([{**EMPTY_LOGIN, "session_id": " "}]).iter_events()
        assert event.session_id == " "
