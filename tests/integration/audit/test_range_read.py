"""The audit store's range read: exactly the entries asked for, in order, in one query; bad ranges named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.keys import NoteSigner
from orderguard.audit.store import MAX_RANGE, AuditRangeError, AuditStore
from orderguard.storage import make_engine
from tests.integration.audit.helpers import filled_log

SIZE = 40


@pytest.fixture
def store(db_url: str) -> Iterator[AuditStore]:
    filled_log(db_url, NoteSigner.generate("audit-key"), SIZE, checkpoint_each=False)
    engine: Engine = make_engine(db_url)
    yield AuditStore(engine)
    engine.dispose()


class TestRangeRead:
    def test_returns_exactly_the_range_in_order(self, store: AuditStore) -> None:
        """Entries 7 to 22 come back in index order, each equal to its single-entry read."""
        found = store.entries(7, 23)
        assert [row[0] for row in found] == list(range(7, 23))
        assert found == [store.entry(index) for index in range(7, 23)]
        assert [decode_leaf(row[2]).header["object_id"] for row in found] == [
            f"ord-{i}" for i in range(7, 23)
        ]

    def test_whole_log_and_empty_range(self, store: AuditStore) -> None:
        """The range [0, size) is the whole log; an empty range reads nothing."""
        assert [row[0] for row in store.entries(0, SIZE)] == list(range(SIZE))
        assert store.entries(SIZE, SIZE) == []
        assert store.entries(3, 3) == []

    def test_payloads_are_bytes(self, store: AuditStore) -> None:
        """Leaf hash, leaf, salt and payload come back as bytes on both backends."""
        [(_, leaf_hash, leaf, salt, payload)] = store.entries(5, 6)
        assert all(type(value) is bytes for value in (leaf_hash, leaf, salt, payload))

    def test_range_past_the_end_is_refused_naming_what_the_log_holds(self, store: AuditStore) -> None:
        """Asking beyond the newest entry is an error naming the range and what the log holds."""
        with pytest.raises(AuditRangeError, match=rf"\[35, 41\).*entries 0 to {SIZE - 1}"):
            store.entries(35, SIZE + 1)

    @pytest.mark.parametrize(("start", "stop"), [(-1, 3), (10, 9), (0, MAX_RANGE + 1)])
    def test_malformed_range_is_refused(self, store: AuditStore, start: int, stop: int) -> None:
        """A negative start, a stop before the start, or too long a range is refused before any query."""
        with pytest.raises(AuditRangeError, match=rf"\[{start}, {stop}\)"):
            store.entries(start, stop)

    def test_empty_log_says_so(self, sqlite_url: str) -> None:
        """On an empty log the error says it holds no entries yet."""
        filled_log(sqlite_url, NoteSigner.generate("audit-key"), 0, checkpoint_each=False)
        engine = make_engine(sqlite_url)
        try:
            with pytest.raises(AuditRangeError, match="no entries yet"):
                AuditStore(engine).entries(0, 1)
        finally:
            engine.dispose()
