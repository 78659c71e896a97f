"""EventBatch and intake: round trips between formats, seq, unknown columns, domain events."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from orderguard.domain import Event, EventKind, Side, parse_ts
from orderguard.ingest import EVENT_SCHEMA, IngestError, batch_from_events, batch_from_records, read_events
from orderguard.ingest.writer import write_events
from tests.unit.ingest.files import FORMATS, order, write

MIXED: list[dict[str, object]] = [
    order("e1", ts="2026-11-20T14:30:00.000000001Z", desk_note="first"),
    {"event_id": "e2", "ts": "2026-11-20T14:30:00Z", "kind": "login", "actor": "bob", "ip": "10.0.0.7"},
    {
        "event_id": "e3",
        "ts": "2026-11-20T14:30:00.999999999Z",
        "kind": "execution",
        "actor": "alice",
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": "sell",
        "qty": 12.5,
        "price": 0.1,
        "order_id": "O-e1",
        "venue": "XNAS",
    },
    {
        "event_id": "e4",
        "ts": "2026-11-20T14:29:59Z",
        "kind": "order_view",
        "actor": "carol",
        "account": "A",
        "records": 3,
    },
]


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_each_format_reads_the_same(self, tmp_path: Path, fmt: str) -> None:
        """The same records written as JSONL, CSV or Parquet read to equal v1 columns."""
        reference = read_events([write(tmp_path / "", MIXED, "jsonl", "ref")])
        batch = read_events([write(tmp_path, MIXED, fmt)])
        v1 = [f.name for f in EVENT_SCHEMA]
        assert batch.table.select(v1).equals(reference.table.select(v1))

    def test_json_array_file(self, tmp_path: Path) -> None:
        """A .json file holding one array of objects reads like JSON Lines; errors name the element."""
        path = tmp_path / "events.json"
        path.write_text(json.dumps(MIXED))
        reference = read_events([write(tmp_path, MIXED, "jsonl")])
        assert read_events([path]).table.equals(reference.table)
        path.write_text(json.dumps([*MIXED, {**MIXED[0], "event_id": "e9", "qty": "many"}]))
        with pytest.raises(IngestError) as caught:
            read_events([path])
        assert caught.value.location == "element 5"

    def test_jsonl_to_parquet_to_csv_is_identical(self, tmp_path: Path) -> None:
        """Writing a batch as Parquet, reading it, writing CSV, reading it, gives the same batch (ns kept)."""
        first = read_events([write(tmp_path, MIXED, "jsonl")])
        second = read_events([write_events(first, tmp_path / "again.parquet")])
        third = read_events([write_events(second, tmp_path / "again.csv")])
        fourth = read_events([write_events(third, tmp_path / "again.jsonl")])
        assert second.table.equals(first.table)
        assert third.table.equals(first.table)
        assert fourth.table.equals(first.table)
        assert first.table.column("ts")[0].value == parse_ts("2026-11-20T14:30:00.000000001Z")

    def test_written_jsonl_leaves_out_absent_fields(self, tmp_path: Path) -> None:
        """The JSONL writer emits valid JSON objects without null fields."""
        batch = read_events([write(tmp_path, MIXED, "jsonl")])
        lines = write_events(batch, tmp_path / "out.jsonl").read_text().splitlines()
        login = json.loads(lines[1])
        assert login == {
            "event_id": "e2",
            "ts": "2026-11-20T14:30:00.000000000Z",
            "kind": "login",
            "actor": "bob",
            "ip": "10.0.0.7",
        }

    def test_writer_escapes_text(self, tmp_path: Path) -> None:
        """Quotes, backslashes, newlines and control characters survive a JSONL round trip."""
        nasty = 'say "hi"\\ \n\t\x01 é'
        batch = batch_from_records([order("e1", actor=nasty, note=nasty)])
        again = read_events([write_events(batch, tmp_path / "nasty.jsonl")])
        assert again.table.column("actor").to_pylist() == [nasty]
        assert again.table.column("note").to_pylist() == [nasty]


class TestSeq:
    def test_seq_is_intake_position_across_files(self, tmp_path: Path) -> None:
        """seq numbers rows consecutively from start_seq, file after file in the order given."""
        a = write(tmp_path, [order("a1"), order("a2")], "csv", "a")
        b = write(tmp_path, [order("b1")], "parquet", "b")
        batch = read_events([a, b], start_seq=100)
        assert batch.table.column("seq").to_pylist() == [100, 101, 102]
        assert batch.table.column("event_id").to_pylist() == ["a1", "a2", "b1"]

    def test_equal_timestamps_keep_intake_order_when_sorted(self, tmp_path: Path) -> None:
        """sorted() orders by ts, and by seq between equal timestamps."""
        records = [
            order("late", ts="2026-11-20T14:31:00Z"),
            order("tie-1", ts="2026-11-20T14:30:00Z"),
            order("early", ts="2026-11-20T14:29:00Z"),
            order("tie-2", ts="2026-11-20T14:30:00Z"),
        ]
        batch = read_events([write(tmp_path, records, "jsonl")]).sorted()
        assert batch.table.column("event_id").to_pylist() == ["early", "tie-1", "tie-2", "late"]

    def test_input_seq_column_is_replaced(self, tmp_path: Path) -> None:
        """A seq column in the input is ignored: seq is stamped on intake."""
        batch = read_events([write(tmp_path, [order("e1", seq=77), order("e2", seq=3)], "parquet")])
        assert batch.table.column("seq").to_pylist() == [0, 1]
        assert "seq" not in batch.extra_columns


class TestUnknownColumns:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_unknown_columns_are_kept_after_v1(self, tmp_path: Path, fmt: str) -> None:
        """Columns outside v1 are kept, after the v1 columns, with their values."""
        batch = read_events([write(tmp_path, [order("e1", trader_note="x", z_score=1), order("e2")], fmt)])
        assert batch.table.schema.names[: len(EVENT_SCHEMA)] == EVENT_SCHEMA.names
        assert batch.extra_columns == ["trader_note", "z_score"]
        assert batch.table.column("trader_note").to_pylist()[0] == "x"

    def test_mixed_types_in_unknown_json_field_become_text(self, tmp_path: Path) -> None:
        """An unknown JSON field with mixed types is kept as JSON text rather than refused."""
        path = write(
            tmp_path, [order("e1", tag=1), order("e2", tag="two"), order("e3", tag={"a": 1})], "jsonl"
        )
        assert read_events([path]).table.column("tag").to_pylist() == ["1", '"two"', '{"a": 1}']


class TestEvents:
    def test_iter_events_gives_domain_events(self, tmp_path: Path) -> None:
        """iter_events yields Event objects with ns timestamps, seq, enums and extras."""
        batch = read_events([write(tmp_path, MIXED, "jsonl")], start_seq=5)
        events = list(batch.iter_events())
        assert events[0].ts == parse_ts("2026-11-20T14:30:00.000000001Z")
        assert events[0].seq == 5
        assert events[0].kind is EventKind.CLIENT_ORDER
        assert events[0].side is Side.BUY
        assert dict(events[0].extra) == {"desk_note": "first"}
        assert events[1].ip == "10.0.0.7"
        assert events[1].qty is None
        assert events[3].records == 3

    def test_an_empty_side_where_none_is_needed_reads_as_no_side(self, tmp_path: Path) -> None:
        """A view with ``"side": ""`` passes validation and becomes an event without a side (no crash)."""
        view = {
            "event_id": "v1",
            "ts": "2026-11-20T14:30:00Z",
            "kind": "order_view",
            "actor": "bob",
            "account": "C-PENSION-1",
            "order_id": "O-1",
            "records": 1,
            "side": "",
        }
        events = list(read_events([write(tmp_path, [view], "jsonl")]).iter_events())
        assert events[0].kind is EventKind.ORDER_VIEW
        assert events[0].side is None

    def test_batch_from_events_round_trips(self, tmp_path: Path) -> None:
        """batch_from_events(iter_events()) rebuilds the same table."""
        batch = read_events([write(tmp_path, MIXED, "jsonl")])
        rebuilt = batch_from_events(list(batch.iter_events()))
        assert rebuilt.table.equals(batch.table)

    def test_counts_by_kind(self, tmp_path: Path) -> None:
        """counts_by_kind counts each kind present."""
        batch = read_events([write(tmp_path, MIXED, "csv")])
        assert batch.counts_by_kind() == {"client_order": 1, "execution": 1, "login": 1, "order_view": 1}
        assert len(batch) == 4


class TestRecords:
    def test_records_are_validated_like_files(self) -> None:
        """batch_from_records applies the same rules and names the record."""
        with pytest.raises(IngestError) as caught:
            batch_from_records([order("e1"), order("e2", qty=True)], source="api")
        assert (caught.value.path, caught.value.location, caught.value.field) == ("api", "row 2", "qty")

    @pytest.mark.parametrize(
        ("field", "value"), [("records", 2**63), ("records", -(2**63) - 1), ("qty", 10**400)]
    )
    def test_numbers_beyond_the_column_type_are_input_errors(self, field: str, value: int) -> None:
        """A whole number too large for its column is an error naming the field, not a crash."""
        with pytest.raises(IngestError) as caught:
            batch_from_records([order("e1", **{field: value})], source="api")
        assert caught.value.field == field
        assert "64-bit range" in str(caught.value)

    def test_huge_number_in_an_unknown_column_is_kept_as_text(self) -> None:
        """An unknown column whose numbers do not fit 64 bits is kept, as JSON text."""
        batch = batch_from_records([order("e1", note=2**63)])
        assert batch.table.column("note").to_pylist() == [str(2**63)]

    def test_records_give_a_batch(self) -> None:
        """Valid records become a batch with seq from start_seq."""
        batch = batch_from_records([order("e1"), order("e2")], start_seq=10)
        assert batch.table.column("seq").to_pylist() == [10, 11]

    def test_empty_input_gives_empty_batch(self) -> None:
        """No records give an empty batch in EVENT_SCHEMA."""
        assert len(read_events([])) == 0
        assert read_events([]).table.schema == EVENT_SCHEMA

    def test_domain_event_fields(self) -> None:
        """A batch built from a domain Event keeps its fields."""
        event = Event("x", parse_ts("2026-11-20T14:30:00Z"), EventKind.LOGIN, "alice", seq=9, ip="1.2.3.4")
        table = batch_from_events([event]).table
        assert table.column("seq").to_pylist() == [9]
        assert table.column("ts").type == pa.timestamp("ns", tz="UTC")
