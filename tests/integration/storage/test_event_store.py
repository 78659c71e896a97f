"""The event store on SQLite and PostgreSQL: exact round trips, all-or-nothing appends, serialised writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from orderguard.domain import EventKind, Side
from orderguard.ingest.schema import EVENT_SCHEMA
from orderguard.storage import make_engine
from orderguard.storage.events_arrow import STORED_SCHEMA, EventBatchError
from orderguard.storage.events_store import FIRST_SEQ, DuplicateEventError, EventStore
from orderguard.storage.migrate import upgrade
from tests.integration.storage.event_batches import BASE_NS, event_batch


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    """An event store on a freshly migrated database of each backend."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield EventStore(engine)
    engine.dispose()


def _without_extra(table: pa.Table) -> pa.Table:
    return table.drop_columns(["extra"])


class TestRoundTrip:
    def test_arrow_round_trip_keeps_every_value(self, store: EventStore) -> None:
        """A batch read back with to_arrow equals what was appended, nanoseconds and floats exact."""
        batch = event_batch(50)
        result = store.append_batch(batch)
        assert (result.rows, result.first_seq, result.last_seq) == (50, FIRST_SEQ, FIRST_SEQ + 49)
        back = store.to_arrow()
        assert back.schema == STORED_SCHEMA
        expected = batch.set_column(0, "seq", pa.array(range(FIRST_SEQ, FIRST_SEQ + 50), pa.int64()))
        assert _without_extra(back).cast(EVENT_SCHEMA).equals(expected.cast(EVENT_SCHEMA))
        assert back.column("extra").null_count == 50

    def test_extreme_timestamps_and_awkward_text_survive(self, store: EventStore) -> None:
        """Timestamps far from now and text with quotes, commas, newlines or '' come back unchanged."""
        ts = [0, 1, BASE_NS, 9_223_372_036_854_775_807, -1_000_000_001]
        texts = ['a,"b"', "line\nbreak", "", "ünïcødé ✓", "\\N"]
        batch = event_batch(5).set_column(5, "account", pa.array(texts, pa.string()))
        batch = batch.set_column(2, "ts", pa.array(ts, pa.int64()).cast(batch.schema.field("ts").type))
        batch = batch.set_column(8, "qty", pa.array([0.1, 1e-300, 123456789.12345679, -0.0, 2.5]))
        store.append_batch(batch)
        back = store.to_arrow()
        by_id = {row["event_id"]: row for row in back.drop_columns(["ts"]).to_pylist()}
        for i, row in enumerate(batch.drop_columns(["ts"]).to_pylist()):
            stored = by_id[row["event_id"]]
            assert stored["account"] == texts[i]
            assert stored["qty"] == row["qty"]
        assert sorted(back.column("ts").cast(pa.int64()).to_pylist()) == sorted(ts)
        assert [e.ts for e in store.by_actor("trader-2")] == [BASE_NS]

    def test_unknown_columns_are_kept_as_extra(self, store: EventStore) -> None:
        """Columns outside v1 are stored as a JSON object per event and come back on the domain Event."""
        batch = event_batch(2).append_column("desk", pa.array(["equities", None]))
        store.append_batch(batch)
        first, second = store.by_actor("trader-0") + store.by_actor("trader-1")
        assert dict(first.extra) == {"desk": "equities"}
        assert dict(second.extra) == {}

    def test_to_arrow_output_appends_again(self, db_url: str, store: EventStore, tmp_path: Path) -> None:
        """A table read with to_arrow, extras included, can be appended to another store unchanged."""
        store.append_batch(event_batch(3).append_column("desk", pa.array(["eq", None, "fx"])))
        copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
        upgrade(copy_url)
        engine = make_engine(copy_url)
        copy = EventStore(engine)
        copy.append_batch(store.to_arrow())
        assert copy.to_arrow().equals(store.to_arrow())
        with pytest.raises(EventBatchError, match="'extra', row 0: expected a JSON object"):
            copy.append_batch(event_batch(1, prefix="x").append_column("extra", pa.array(["[1]"])))
        engine.dispose()

    def test_lookups_filter_and_order(self, store: EventStore) -> None:
        """by_actor/account/symbol honour [start, end) in (ts, seq) order; by_order finds them all."""
        store.append_batch(event_batch(100, step_ns=10))
        mine = store.by_actor("trader-3")
        assert [e.event_id for e in mine] == [f"e-{i}" for i in range(3, 100, 7)]
        window = store.by_actor("trader-3", BASE_NS + 30, BASE_NS + 170)
        assert [e.event_id for e in window] == ["e-3", "e-10"]
        assert all(e.account == "ACC-5" for e in store.by_account("ACC-5"))
        assert len(store.by_account("ACC-5", BASE_NS, BASE_NS + 1)) == 0
        assert len(store.by_symbol("NBSC")) == 33
        order = store.by_order("e-O4")
        assert [e.event_id for e in order] == ["e-12", "e-13", "e-14"]
        assert order[0].kind is EventKind.EXECUTION
        assert order[0].side is Side.BUY
        assert order[1].seq == order[0].seq + 1

    def test_by_ids_finds_known_ids_once_in_ts_order(self, store: EventStore) -> None:
        """by_ids gives each stored id once in (ts, seq) order, across several queries; unknown ids drop."""
        store.append_batch(event_batch(1200))
        asked = ["e-1100", "e-7", "nope", "e-7", *(f"e-{i}" for i in range(1199, 599, -1))]
        found = store.by_ids(asked)
        assert [e.event_id for e in found] == ["e-7", *(f"e-{i}" for i in range(600, 1200))]
        assert [e.ts for e in found] == sorted(e.ts for e in found)
        assert store.by_ids([]) == []

    def test_to_arrow_range_and_tie_order(self, store: EventStore) -> None:
        """to_arrow returns [start, end) sorted by ts, equal timestamps in intake (seq) order."""
        store.append_batch(event_batch(10, prefix="late", start_ns=BASE_NS + 5, step_ns=0))
        store.append_batch(event_batch(10, prefix="early", start_ns=BASE_NS, step_ns=0))
        everything = store.to_arrow()
        assert everything.column("event_id").to_pylist()[:2] == ["early-0", "early-1"]
        assert everything.column("seq").to_pylist()[10:] == list(range(FIRST_SEQ, FIRST_SEQ + 10))
        assert store.to_arrow(BASE_NS + 1, None).num_rows == 10
        assert store.to_arrow(None, BASE_NS + 5).num_rows == 10
        assert store.to_arrow(BASE_NS + 6).num_rows == 0

    def test_empty_store(self, store: EventStore) -> None:
        """An empty store counts zero, reads back an empty table and hands out the first sequence number."""
        assert store.count() == 0
        assert store.next_seq() == FIRST_SEQ
        assert store.to_arrow().num_rows == 0
        assert store.to_arrow().schema == STORED_SCHEMA
        assert store.append_batch(event_batch(0)).rows == 0


class TestAllOrNothing:
    def test_duplicate_within_batch_writes_nothing(self, store: EventStore) -> None:
        """A batch that repeats an event_id is refused whole, and the error names the id."""
        batch = pa.concat_tables([event_batch(10), event_batch(1, prefix="e")])
        with pytest.raises(DuplicateEventError, match=r"'e-0'.*within the batch.*nothing"):
            store.append_batch(batch)
        assert store.count() == 0

    def test_duplicate_against_stored_writes_nothing(self, store: EventStore) -> None:
        """A batch whose event_id is already stored is refused whole; the store and next_seq are unchanged."""
        store.append_batch(event_batch(10))
        next_seq = store.next_seq()
        clash = pa.concat_tables([event_batch(500, prefix="new"), event_batch(10).slice(7, 1)])
        with pytest.raises(DuplicateEventError, match=r"'e-7'.*already stored") as raised:
            store.append_batch(clash)
        assert raised.value.event_ids == ("e-7",)
        assert store.count() == 10
        assert store.next_seq() == next_seq
        assert store.by_actor("trader-0", BASE_NS + 11) == []

    def test_missing_required_value_is_refused(self, store: EventStore) -> None:
        """A batch without a required column, or with an empty required value, is refused before writing."""
        with pytest.raises(EventBatchError, match="actor"):
            store.append_batch(event_batch(3).drop_columns(["actor"]))
        holes = event_batch(3).set_column(4, "actor", pa.array(["a", None, "c"]))
        with pytest.raises(EventBatchError, match="'actor' has empty values"):
            store.append_batch(holes)
        assert store.count() == 0


class TestConcurrentAppends:
    def test_batches_from_two_threads_do_not_interleave(self, db_url: str) -> None:
        """Two writers appending at once each get contiguous sequence runs, and every row lands."""
        upgrade(db_url)
        batches, size = 8, 400
        results: dict[str, list[tuple[int, int]]] = {"a": [], "b": []}
        errors: list[BaseException] = []

        def writer(prefix: str) -> None:
            engine = make_engine(db_url)
            try:
                store = EventStore(engine)
                for b in range(batches):
                    result = store.append_batch(event_batch(size, prefix=f"{prefix}{b}"))
                    results[prefix].append((result.first_seq, result.last_seq))
            except Exception as exc:  # noqa: BLE001  handed to the main thread, which fails the test
                errors.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=writer, args=(p,)) for p in results]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        engine = make_engine(db_url)
        stored = EventStore(engine).to_arrow().sort_by("seq")
        engine.dispose()
        assert stored.num_rows == 2 * batches * size
        assert stored.column("seq").to_pylist() == list(range(FIRST_SEQ, FIRST_SEQ + stored.num_rows))
        prefixes = [eid.split("-")[0] for eid in stored.column("event_id").to_pylist()]
        for start in range(0, stored.num_rows, size):  # each run of `size` seqs holds one batch only
            assert len(set(prefixes[start : start + size])) == 1


class TestLargeBatch:
    def test_hundred_thousand_rows(self, store: EventStore) -> None:
        """A 100k-event batch goes in as one append and reads back intact."""
        batch = event_batch(100_000)
        assert store.append_batch(batch).last_seq == FIRST_SEQ + 99_999
        assert store.count() == 100_000
        back = store.to_arrow()
        assert back.column("event_id").equals(batch.column("event_id"))
        assert back.column("ts").equals(batch.column("ts"))
        assert back.column("price").equals(batch.column("price"))
