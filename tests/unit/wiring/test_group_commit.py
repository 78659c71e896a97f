"""The blackout-book writer: concurrent rows share transactions, each durable before its caller returns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select

from orderguard.gateway.preclearance_store import ClientOrderState
from orderguard.gateway.sql_state import SqlPreClearanceStore
from orderguard.storage import make_engine
from orderguard.storage.controls_tables import blackout_orders
from orderguard.storage.migrate import upgrade
from orderguard.wiring.group_commit import BlackoutBookWriter, GroupCommitPreClearanceStore


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database on each backend (the upsert differs between SQLite and PostgreSQL)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> dict[str, tuple[bool, int]]:
    with engine.connect() as conn:
        return {r.order_id: (r.working, r.last_ns) for r in conn.execute(select(blackout_orders))}


class TestBlackoutBookWriter:
    def test_concurrent_rows_are_all_stored_in_fewer_transactions(self, engine: Engine) -> None:
        """Rows saved from many threads are all in the table, written in fewer transactions than rows."""
        writer = BlackoutBookWriter(engine)

        def save(n: int) -> None:
            writer.save(ClientOrderState(f"O-{n}", "AAPL", "equities", True, n))
            # Durable on return: a fresh connection already sees the row.
            assert f"O-{n}" in _rows(engine)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(save, range(400)))
        writer.close()
        assert len(_rows(engine)) == 400
        assert writer.transactions < 400

    def test_a_later_state_replaces_the_earlier(self, engine: Engine) -> None:
        """An order saved working, then done, is stored as done with the later timestamp."""
        writer = BlackoutBookWriter(engine)
        writer.save(ClientOrderState("O-1", "AAPL", "equities", True, 10))
        writer.save(ClientOrderState("O-1", "AAPL", "equities", False, 20))
        writer.close()
        assert _rows(engine) == {"O-1": (False, 20)}

    def test_a_closed_writer_refuses(self, engine: Engine) -> None:
        """After close, a save raises instead of being silently dropped."""
        writer = BlackoutBookWriter(engine)
        writer.close()
        with pytest.raises(RuntimeError, match="closed"):
            writer.save(ClientOrderState("O-1", "AAPL", None, True, 1))

    def test_a_failed_write_reaches_the_caller(self, engine: Engine) -> None:
        """A write the database refuses (here: the table is gone) raises in the caller."""
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE blackout_orders")
        writer = BlackoutBookWriter(engine)
        with pytest.raises(Exception, match="blackout_orders"):
            writer.save(ClientOrderState("O-1", "AAPL", None, True, 1))
        writer.close()


class TestGroupCommitPreClearanceStore:
    def test_the_snapshot_sees_group_committed_orders(self, engine: Engine) -> None:
        """Orders written through the wrapper come back in the SQL store's snapshot (what a restart loads)."""
        writer = BlackoutBookWriter(engine)
        store = GroupCommitPreClearanceStore(SqlPreClearanceStore(engine), writer)
        store.save_client_order(ClientOrderState("O-9", "MSFT", "equities", True, 5))
        writer.close()
        snapshot = SqlPreClearanceStore(engine).snapshot()
        assert [s.order_id for s in snapshot.client_orders] == ["O-9"]

    def test_an_orders_end_is_queued_without_waiting_and_committed_by_close(self, engine: Engine) -> None:
        """An order's end (working=False) returns before its commit; close() still writes it last."""
        writer = BlackoutBookWriter(engine)
        store = GroupCommitPreClearanceStore(SqlPreClearanceStore(engine), writer)
        store.save_client_order(ClientOrderState("O-7", "MSFT", "equities", True, 5))
        assert _rows(engine) == {"O-7": (True, 5)}  # the start is durable before save returns
        store.save_client_order(ClientOrderState("O-7", "MSFT", "equities", False, 9))
        writer.close()
        assert _rows(engine) == {"O-7": (False, 9)}


class TestDeferredWrites:
    def test_deferred_saves_queue_and_are_awaited_durable(self, engine: Engine) -> None:
        """Saves inside ``deferred()`` only queue; after ``wait_async`` every row is committed."""
        writer = BlackoutBookWriter(engine)

        async def main() -> list[str]:
            waits = []
            for n in range(50):
                with writer.deferred() as pending:
                    writer.save(ClientOrderState(f"O-{n}", "AAPL", "equities", True, n))
                assert len(pending) == 1
                waits.append(writer.wait_async(pending))
            await asyncio.gather(*waits)
            return sorted(_rows(engine))

        assert asyncio.run(main()) == sorted(f"O-{n}" for n in range(50))
        assert writer.transactions < 50
        writer.close()

    def test_outside_deferred_a_save_still_blocks_until_durable(self, engine: Engine) -> None:
        """The context only covers saves made inside it: a later save waits for its commit again."""
        writer = BlackoutBookWriter(engine)

        async def main() -> None:
            with writer.deferred() as pending:
                writer.save(ClientOrderState("O-1", "AAPL", None, True, 1))
            await writer.wait_async(pending)

        asyncio.run(main())
        writer.save(ClientOrderState("O-2", "AAPL", None, True, 2))
        assert set(_rows(engine)) == {"O-1", "O-2"}
        writer.close()

    def test_a_failed_deferred_write_reaches_the_awaiting_caller(self, engine: Engine) -> None:
        """A write the database refuses raises in ``wait_async``."""
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE blackout_orders")
        writer = BlackoutBookWriter(engine)

        async def main() -> None:
            with writer.deferred() as pending:
                writer.save(ClientOrderState("O-1", "AAPL", None, True, 1))
            await writer.wait_async(pending)

        with pytest.raises(Exception, match="blackout_orders"):
            asyncio.run(main())
        writer.close()
