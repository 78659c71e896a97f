"""The awaitable append: same batches, indexes and durability as ``append``, without a parked thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog, AuditLogError
from orderguard.storage.audit_tables import audit_entries
from tests.integration.audit.helpers import open_log, order_entry


def _stored_count(log: AuditLog) -> int:
    with log.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one())


class TestAppendAsync:
    def test_concurrent_coroutines_share_batches_and_get_every_index_once(self, db_url: str) -> None:
        """Two hundred coroutines on one loop get indexes 0..199 once each, in fewer commits than entries."""
        with open_log(db_url) as log:

            async def main() -> list[int]:
                return list(await asyncio.gather(*(log.append_async(order_entry(n)) for n in range(200))))

            indexes = asyncio.run(main())
            assert sorted(indexes) == list(range(200))
            assert log.batches_written < 200
            for n, index in enumerate(indexes):
                stored = log.store.entry(index)
                assert stored is not None
                assert decode_leaf(stored[2]).header["object_id"] == f"ord-{n}"

    def test_an_awaited_entry_is_already_stored(self, sqlite_url: str) -> None:
        """When the await returns, a fresh connection sees the entry (durable before the caller goes on)."""
        with open_log(sqlite_url) as log:

            async def main() -> list[int]:
                seen = []
                for n in range(5):
                    await log.append_async(order_entry(n))
                    seen.append(_stored_count(log))
                return seen

            assert asyncio.run(main()) == [1, 2, 3, 4, 5]

    def test_threads_and_coroutines_together_get_distinct_indexes(self, sqlite_url: str) -> None:
        """Blocking appends from threads and awaited ones from a loop never share or skip an index."""
        with open_log(sqlite_url) as log:
            from_threads: list[int] = []

            def blocking(slot: int) -> None:
                from_threads.extend([log.append(order_entry(slot * 1000 + n)) for n in range(30)])

            async def main() -> list[int]:
                appends = (log.append_async(order_entry(9000 + n)) for n in range(120))
                return list(await asyncio.gather(*appends))

            threads = [threading.Thread(target=blocking, args=(slot,)) for slot in range(4)]
            for thread in threads:
                thread.start()
            from_loop = asyncio.run(main())
            for thread in threads:
                thread.join()
            assert sorted(from_threads + from_loop) == list(range(240))
            assert _stored_count(log) == 240

    def test_coroutines_on_two_event_loops_are_each_woken(self, db_url: str) -> None:
        """Two loops on two threads, fifty coroutines each, share the batches and all get distinct indexes."""
        with open_log(db_url) as log:
            results: list[list[int]] = [[], []]

            async def many(first: int) -> list[int]:
                appends = (log.append_async(order_entry(first + n)) for n in range(50))
                return list(await asyncio.gather(*appends))

            def run_loop(slot: int) -> None:
                results[slot] = asyncio.run(many(slot * 1000))

            threads = [threading.Thread(target=run_loop, args=(slot,)) for slot in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(results[0] + results[1]) == list(range(100))
            assert _stored_count(log) == 100

    def test_append_many_async_is_consecutive(self, sqlite_url: str) -> None:
        """Several entries appended together land at consecutive indexes."""
        with open_log(sqlite_url) as log:
            log.append(order_entry(0))
            indexes = asyncio.run(log.append_many_async([order_entry(n) for n in range(1, 4)]))
            assert indexes == [1, 2, 3]
            assert asyncio.run(log.append_many_async([])) == []

    def test_a_cancelled_caller_does_not_cancel_its_batch(self, sqlite_url: str) -> None:
        """Cancelling one awaiting coroutine leaves the others of its batch to finish with their indexes."""
        with open_log(sqlite_url) as log:

            async def main() -> list[int]:
                tasks = [asyncio.create_task(log.append_async(order_entry(n))) for n in range(20)]
                await asyncio.sleep(0)  # every task has joined the open batch
                tasks[0].cancel()
                done = await asyncio.gather(*tasks[1:])
                with pytest.raises(asyncio.CancelledError):
                    await tasks[0]
                return list(done)

            indexes = asyncio.run(main())
            assert len(set(indexes)) == 19
            assert _stored_count(log) == 20  # the cancelled caller's entry was written all the same


class TestAppendAsyncFailures:
    def test_closed_log_refuses(self, sqlite_url: str) -> None:
        """After close, an awaited append raises instead of silently dropping the entry."""
        log = open_log(sqlite_url)
        log.close()
        with pytest.raises(AuditLogError, match="closed"):
            asyncio.run(log.append_async(order_entry(1)))

    def test_failed_write_reaches_the_awaiting_caller(self, db_url: str) -> None:
        """If the database refuses the batch, the coroutine gets the error and the log stops."""
        open_log(db_url).close()
        log = AuditLog(db_url)
        with log.engine.begin() as conn:  # a row at the next index makes the batch's INSERT fail
            conn.execute(audit_entries.insert().values(idx=0, leaf_hash=b"\0" * 32, leaf=b"x"))
        with pytest.raises(AuditLogError, match="not stored"):
            asyncio.run(log.append_async(order_entry(1)))
        with pytest.raises(AuditLogError, match="failed write"):
            asyncio.run(log.append_async(order_entry(2)))
        log.close()
