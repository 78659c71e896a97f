"""LoopCombiner: coroutines' items processed in batches, prepare one batch at a time, finish overlapping."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from orderguard.wiring.loop_combiner import LoopCombiner

WAIT_S = 5.0


class Recorder:
    """prepare/finish steps that record the batches they saw (called from the executor's threads)."""

    def __init__(self) -> None:
        self.prepared: list[list[int]] = []
        self.gate = threading.Event()  # the first prepare waits on it, so that others queue meanwhile
        self.gate.set()

    def prepare(self, items: list[int]) -> list[int]:
        self.prepared.append(list(items))
        assert self.gate.wait(WAIT_S)
        return items

    @staticmethod
    def finish(items: list[int]) -> list[int | Exception]:
        return [ValueError(f"item {i} is odd") if i % 2 else i * 10 for i in items]


def _run(combiner: LoopCombiner[int, list[int], int], items: list[int]) -> list[int | BaseException]:
    async def main() -> list[int | BaseException]:
        return await asyncio.gather(*(combiner.run(i) for i in items), return_exceptions=True)

    return asyncio.run(main())


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(4)
    yield executor
    executor.shutdown()


class TestLoopCombiner:
    def test_each_caller_gets_its_own_result_or_exception(self, pool: ThreadPoolExecutor) -> None:
        """Every caller hears its own item's result, and an item's exception reaches only its caller."""
        steps = Recorder()
        combiner = LoopCombiner(steps.prepare, steps.finish, 8, lambda: pool)
        results = _run(combiner, list(range(20)))
        for i, result in enumerate(results):
            if i % 2:
                assert isinstance(result, ValueError)
                assert str(result) == f"item {i} is odd"
            else:
                assert result == i * 10
        assert sorted(i for batch in steps.prepared for i in batch) == list(range(20))

    def test_items_waiting_while_a_batch_prepares_form_the_next_batch(self, pool: ThreadPoolExecutor) -> None:
        """Items that arrive while a batch prepares are taken together, at most max_batch at a time."""
        steps = Recorder()
        steps.gate.clear()
        combiner = LoopCombiner(steps.prepare, steps.finish, 4, lambda: pool)

        async def main() -> list[int]:
            first = asyncio.ensure_future(combiner.run(0))
            while not steps.prepared:  # the leader's batch is [0], held in prepare
                await asyncio.sleep(0.001)
            rest = [asyncio.ensure_future(combiner.run(i)) for i in range(2, 20, 2)]
            await asyncio.sleep(0.01)
            steps.gate.set()
            return list(await asyncio.gather(first, *rest))

        assert asyncio.run(main()) == [i * 10 for i in range(0, 20, 2)]
        assert steps.prepared == [[0], [2, 4, 6, 8], [10, 12, 14, 16], [18]]
        assert (combiner.batches, combiner.items) == (4, 10)

    def test_a_batch_finishes_while_the_next_one_prepares(self, pool: ThreadPoolExecutor) -> None:
        """finish of one batch runs beside prepare of the next (it would time out if they were serial)."""
        second_prepared = threading.Event()
        prepared: list[list[int]] = []

        def prepare(items: list[int]) -> list[int]:
            prepared.append(items)
            if len(prepared) == 2:
                second_prepared.set()
            return items

        def finish(items: list[int]) -> list[int | Exception]:
            if items == [0]:  # the first batch only finishes once the second has been prepared
                assert second_prepared.wait(WAIT_S)
            return list(items)

        combiner = LoopCombiner(prepare, finish, 8, lambda: pool)

        async def main() -> list[int]:
            first = asyncio.ensure_future(combiner.run(0))
            while not prepared:
                await asyncio.sleep(0.001)
            return list(await asyncio.gather(first, combiner.run(1)))

        assert asyncio.run(main()) == [0, 1]

    def test_a_failing_step_fails_its_batch_only(self, pool: ThreadPoolExecutor) -> None:
        """If prepare raises, every caller of that batch gets the error; the next batch still runs."""
        calls: list[list[int]] = []

        def prepare(items: list[int]) -> list[int]:
            calls.append(items)
            if len(calls) == 1:
                raise OSError("connector gone")
            return items

        combiner = LoopCombiner(prepare, Recorder.finish, 8, lambda: pool)
        first = _run(combiner, [0, 2])
        assert all(isinstance(r, OSError) for r in first)
        assert _run(combiner, [4]) == [40]

    def test_a_wrong_number_of_results_fails_the_batch(self, pool: ThreadPoolExecutor) -> None:
        """A finish step that answers for fewer items than it got is an error for each caller, not a hang."""
        combiner: LoopCombiner[int, list[int], int] = LoopCombiner(
            lambda items: items, lambda items: list(items[:-1]), 8, lambda: pool
        )
        results = _run(combiner, [1, 2, 3])
        assert all(isinstance(r, RuntimeError) and "results for" in str(r) for r in results)

    def test_max_batch_must_be_positive(self, pool: ThreadPoolExecutor) -> None:
        """A batch size below one is refused when the combiner is built."""
        with pytest.raises(ValueError, match="max_batch must be at least 1"):
            LoopCombiner(lambda items: items, Recorder.finish, 0, lambda: pool)

    def test_each_event_loop_gets_its_own_batches(self, pool: ThreadPoolExecutor) -> None:
        """The same combiner serves a second event loop after the first one is gone."""
        steps = Recorder()
        combiner = LoopCombiner(steps.prepare, steps.finish, 8, lambda: pool)
        assert _run(combiner, [2]) == [20]
        assert _run(combiner, [4, 6]) == [40, 60]
