"""Flat combining: concurrent callers' items are processed together, each caller gets its own result."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from orderguard.execution._combine import Combiner

IntCombiner = Combiner[int, list[int], int]


class Recorder:
    """A process step that records its batches and can hold the first one until released."""

    def __init__(self, hold_first: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.entered.set()
        self.release.wait(timeout=10)
        return [item * 10 for item in items]


class TestCombiner:
    def test_a_lone_caller_processes_its_own_item_at_once(self) -> None:
        """One caller, one batch of one, its own result."""
        recorder = Recorder()
        combiner: IntCombiner = Combiner(recorder)
        assert combiner.run(4) == 40
        assert recorder.batches == [[4]]

    def test_callers_arriving_while_a_batch_runs_are_processed_together_next(self) -> None:
        """Items queued behind a busy leader form the next batch, and each caller gets its own result."""
        recorder = Recorder(hold_first=True)
        combiner: IntCombiner = Combiner(recorder)
        with ThreadPoolExecutor(8) as pool:
            first = pool.submit(combiner.run, 0)
            assert recorder.entered.wait(timeout=10)
            others = [pool.submit(combiner.run, n) for n in range(1, 8)]
            while combiner.waiting < 7:
                threading.Event().wait(0.001)
            recorder.release.set()
            assert first.result() == 0
            assert [f.result() for f in others] == [n * 10 for n in range(1, 8)]
        assert recorder.batches[0] == [0]
        assert sorted(recorder.batches[1]) == list(range(1, 8))
        assert (combiner.batches, combiner.items) == (2, 8)

    def test_max_batch_bounds_a_batch_and_the_rest_is_led_by_the_next_caller(self) -> None:
        """With max_batch=3, seven queued items take three more batches, none larger than three."""
        recorder = Recorder(hold_first=True)
        combiner: IntCombiner = Combiner(recorder, max_batch=3)
        with ThreadPoolExecutor(8) as pool:
            first = pool.submit(combiner.run, 0)
            assert recorder.entered.wait(timeout=10)
            others = [pool.submit(combiner.run, n) for n in range(1, 8)]
            while combiner.waiting < 7:
                threading.Event().wait(0.001)
            recorder.release.set()
            results = [first.result(), *(f.result() for f in others)]
        assert results == [n * 10 for n in range(8)]
        assert max(len(batch) for batch in recorder.batches) <= 3
        assert sorted(item for batch in recorder.batches for item in batch) == list(range(8))

    def test_an_error_reaches_every_caller_of_its_batch_and_the_combiner_recovers(self) -> None:
        """If processing raises, each caller of that batch raises it; later calls work again."""
        calls: list[list[int]] = []

        def failing_once(items: list[int]) -> list[int]:
            calls.append(items)
            if len(calls) == 1:
                raise OSError("disk full")
            return items

        combiner: IntCombiner = Combiner(failing_once)
        with pytest.raises(OSError, match="disk full"):
            combiner.run(1)
        assert combiner.run(2) == 2

    def test_a_step_returning_the_wrong_number_of_results_is_an_error(self) -> None:
        """A process step must give one result per item."""
        combiner: IntCombiner = Combiner(lambda items: [])
        with pytest.raises(RuntimeError, match="0 results for 1 items"):
            combiner.run(1)

    def test_many_threads_each_get_their_own_result(self) -> None:
        """Under real contention every caller's result is its own item's."""
        combiner: IntCombiner = Combiner(lambda items: [item + 1 for item in items])
        with ThreadPoolExecutor(16) as pool:
            assert list(pool.map(combiner.run, range(2000))) == list(range(1, 2001))
        assert combiner.items == 2000

    def test_the_next_batch_is_prepared_and_finished_while_a_finish_step_blocks(self) -> None:
        """A batch waiting in its finish step (a commit) does not hold up the next batch."""
        release = threading.Event()

        def finish(items: list[int]) -> list[int]:
            if 0 in items:
                release.wait(timeout=10)
            return items

        combiner: IntCombiner = Combiner(lambda items: items, finish)
        with ThreadPoolExecutor(2) as pool:
            blocked = pool.submit(combiner.run, 0)
            while combiner.batches < 1:
                threading.Event().wait(0.001)
            assert pool.submit(combiner.run, 1).result(timeout=10) == 1
            assert not blocked.done()
            release.set()
            assert blocked.result(timeout=10) == 0

    def test_an_error_in_the_prepare_step_reaches_its_callers_and_passes_the_lead_on(self) -> None:
        """A failed prepare step fails its batch only."""

        def prepare(items: list[int]) -> list[int]:
            if 13 in items:
                raise ValueError("unlucky")
            return items

        combiner: IntCombiner = Combiner(prepare)
        with pytest.raises(ValueError, match="unlucky"):
            combiner.run(13)
        assert combiner.run(14) == 14

    def test_a_batch_size_below_one_is_refused(self) -> None:
        """max_batch must be at least one."""
        with pytest.raises(ValueError, match="max_batch"):
            Combiner(lambda items: items, max_batch=0)
