"""Every kind of bad input, in every format: an IngestError naming file, place, field and fix."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orderguard.ingest import IngestError, read_events, validate_files
from tests.unit.ingest.files import FORMATS, location, order, write

# (case, bad record's overrides, field the error names)
BAD_RECORDS = [
    ("unknown kind", {"kind": "client_ordr"}, "kind"),
    ("wrong type", {"qty": "lots"}, "qty"),
    ("negative qty", {"qty": -5.0}, "qty"),
    ("zero qty", {"qty": 0.0}, "qty"),
    ("bad side", {"side": "BUY"}, "side"),
    ("missing field for kind", {"kind": "execution"}, "venue"),
    ("missing actor", {"actor": None}, "actor"),
    ("non-UTC offset", {"ts": "2026-11-20T14:30:00.123+02:00"}, "ts"),
    ("no zone", {"ts": "2026-11-20T14:30:00"}, "ts"),
    ("month 13", {"ts": "2026-13-01T00:00:00Z"}, "ts"),
    ("ten fraction digits", {"ts": "2026-11-20T14:30:00.1234567891Z"}, "ts"),
    ("February 30", {"ts": "2026-02-30T10:00:00Z"}, "ts"),
]


class TestBadRecords:
    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(("case", "overrides", "field"), BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS])
    def test_error_names_file_place_and_field(
        self, tmp_path: Path, fmt: str, case: str, overrides: dict[str, object], field: str
    ) -> None:
        """A bad third record fails the whole file with an error pointing at that record and field."""
        records = [order("e1"), order("e2"), order("e3", **overrides), order("e4")]
        path = write(tmp_path, records, fmt)
        with pytest.raises(IngestError) as caught:
            read_events([path])
        error = caught.value
        assert error.path == str(path)
        assert error.location == location(fmt, 2)
        assert error.field == field
        assert str(path) in str(error)
        assert "fix:" in str(error)

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_duplicate_event_id_names_both_places(self, tmp_path: Path, fmt: str) -> None:
        """A repeated event_id is reported at its second use, naming the first."""
        path = write(tmp_path, [order("e1"), order("e2"), order("e1")], fmt)
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert caught.value.field == "event_id"
        assert caught.value.location == location(fmt, 2)
        assert location(fmt, 0) in str(caught.value)

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_validate_collects_several_errors(self, tmp_path: Path, fmt: str) -> None:
        """The validate report lists errors of different rows and fields, in file order."""
        records = [order("e1", side="up"), order("e2"), order("e3", qty=-1.0), order("e4", kind="nope")]
        report = validate_files([write(tmp_path, records, fmt)])
        assert not report.ok
        assert [(e.location, e.field) for e in report.errors] == [
            (location(fmt, 0), "side"),
            (location(fmt, 2), "qty"),
            (location(fmt, 3), "kind"),
        ]

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_error_limit(self, tmp_path: Path, fmt: str) -> None:
        """At most ``limit`` errors are collected per file, and the report says there are more."""
        records = [order(f"e{i}", side="sideways") for i in range(30)]
        report = validate_files([write(tmp_path, records, fmt)], limit=5)
        assert len(report.errors) == 5
        assert report.files[0].more_errors


class TestAllOrNothing:
    def test_one_bad_file_keeps_nothing(self, tmp_path: Path) -> None:
        """read_events returns nothing at all when any file of the call is bad."""
        good = write(tmp_path, [order("e1")], "jsonl", "good")
        bad = write(tmp_path, [order("e2"), order("e3", side="long")], "csv", "bad")
        with pytest.raises(IngestError) as caught:
            read_events([good, bad])
        assert caught.value.path == str(bad)

    def test_validate_reports_each_file(self, tmp_path: Path) -> None:
        """validate_files counts the good file and lists the bad file's errors."""
        good = write(tmp_path, [order("e1"), order("e2")], "jsonl", "good")
        bad = write(tmp_path, [order("e3", qty=0)], "parquet", "bad")
        report = validate_files([good, bad])
        assert report.files[0].ok
        assert report.files[0].counts == {"client_order": 2}
        assert not report.files[1].ok
        assert report.files[1].counts == {}

    def test_duplicate_across_files(self, tmp_path: Path) -> None:
        """An event_id used by an earlier file of the same call fails the later file, naming the earlier."""
        first = write(tmp_path, [order("e1"), order("e2")], "parquet", "first")
        second = write(tmp_path, [order("e3"), order("e2")], "jsonl", "second")
        with pytest.raises(IngestError) as caught:
            read_events([first, second])
        assert caught.value.path == str(second)
        assert caught.value.location == "line 2"
        assert f"{first}, row 2" in str(caught.value)


class TestFileLevelErrors:
    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist is an IngestError naming it."""
        with pytest.raises(IngestError, match=r"no\.jsonl"):
            read_events([tmp_path / "no.jsonl"])

    def test_unknown_suffix(self, tmp_path: Path) -> None:
        """A file whose suffix names no supported format is refused with the supported list."""
        path = tmp_path / "events.txt"
        path.write_text("{}\n")
        with pytest.raises(IngestError, match=r"\.jsonl, \.json, \.csv or \.parquet"):
            read_events([path])

    def test_invalid_json_line(self, tmp_path: Path) -> None:
        """A line that is not JSON is named by its line number, blank lines counted."""
        path = tmp_path / "events.jsonl"
        path.write_text(
            '{"event_id": "e1", "ts": "2026-11-20T14:30:00Z", "kind": "login", "actor": "a"}\n\n{oops\n'
        )
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert caught.value.location == "line 3"
        assert "invalid JSON" in str(caught.value)

    def test_csv_without_required_column(self, tmp_path: Path) -> None:
        """A CSV lacking the actor column is refused at its header."""
        path = tmp_path / "events.csv"
        path.write_text("event_id,ts,kind\ne1,2026-11-20T14:30:00Z,login\n")
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert (caught.value.location, caught.value.field) == ("header", "actor")

    def test_csv_with_extra_field_in_a_row(self, tmp_path: Path) -> None:
        """A CSV row with more fields than the header is named by its line."""
        path = tmp_path / "events.csv"
        path.write_text(
            "event_id,ts,kind,actor\ne1,2026-11-20T14:30:00Z,login,a\ne2,2026-11-20T14:30:00Z,login,a,x\n"
        )
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert caught.value.location == "line 3"

    def test_not_a_parquet_file(self, tmp_path: Path) -> None:
        """Bytes that are not Parquet give an error naming the file."""
        path = tmp_path / "events.parquet"
        path.write_bytes(b"not parquet")
        with pytest.raises(IngestError, match="a Parquet file"):
            read_events([path])


class TestChunkedParquet:
    @pytest.mark.parametrize(
        ("overrides", "field"), [({"side": "short"}, "side"), ({"ts": "2026-11-20T25:00:00Z"}, "ts")]
    )
    def test_error_in_a_later_row_group(
        self, tmp_path: Path, overrides: dict[str, object], field: str
    ) -> None:
        """Rows are located across row groups (chunks): the reported row is the file's row."""
        records = [order(f"e{i}", **(overrides if i == 5 else {})) for i in range(7)]
        path = tmp_path / "events.parquet"
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert (caught.value.location, caught.value.field) == ("row 6", field)


class TestParquetTimestamps:
    def _write(self, tmp_path: Path, ts: pa.Array) -> Path:
        path = tmp_path / "events.parquet"
        table = pa.table({"event_id": ["e1"], "ts": ts, "kind": ["login"], "actor": ["alice"]})
        pq.write_table(table, path)
        return path

    def test_other_unit_utc_is_converted(self, tmp_path: Path) -> None:
        """timestamp[ms, UTC] is read as the same instant in ns."""
        path = self._write(tmp_path, pa.array([1_763_649_000_123], pa.timestamp("ms", tz="UTC")))
        batch = read_events([path])
        assert batch.table.column("ts").cast(pa.int64()).to_pylist() == [1_763_649_000_123_000_000]

    def test_naive_timestamps_are_refused(self, tmp_path: Path) -> None:
        """Timestamps without a zone are refused: their instant is unknown."""
        path = self._write(tmp_path, pa.array([1_763_649_000_000_000_000], pa.timestamp("ns")))
        with pytest.raises(IngestError, match="no time zone") as caught:
            read_events([path])
        assert caught.value.field == "ts"

    def test_non_utc_zone_is_refused(self, tmp_path: Path) -> None:
        """A column labelled with a non-UTC zone is refused with the conversion to make."""
        path = self._write(
            tmp_path, pa.array([1_763_649_000_000_000_000], pa.timestamp("ns", tz="Europe/Paris"))
        )
        with pytest.raises(IngestError, match="Europe/Paris"):
            read_events([path])

    def test_numbers_are_not_timestamps(self, tmp_path: Path) -> None:
        """An integer ts column is refused (its unit would be a guess)."""
        path = self._write(tmp_path, pa.array([1_763_649_000], pa.int64()))
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert (caught.value.field, caught.value.location) == ("ts", "row 1")
