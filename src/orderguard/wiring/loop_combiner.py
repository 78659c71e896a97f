"""Combining on an event loop: coroutines' items processed in batches, one thread hop per batch step.

``execution._combine.Combiner`` combines items handed in by threads: each item parks a thread
(the order desk's pool) and each hand-over wakes one. Under sustained order entry through the
HTTP API that cost the server more CPU than the execution leg itself (a thread hop per order, a
dozen thread switches per order, and the interpreter lock passed between up to 64 threads).
``LoopCombiner`` keeps the waiting on the event loop instead: a coroutine queues its item and
awaits a future; one leader task per loop takes every waiting item (at most ``max_batch``), runs
``prepare`` for the batch in a thread, then starts the next batch at once while the batch's
``finish`` (which may block on a durable commit) runs in another thread, and resolves each
caller's future from its result. Batches form by themselves while a batch prepares, and the
blocking steps of successive batches overlap, as with ``Combiner``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Generic, TypeVar

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")


class _LoopState(Generic[T, R]):
    __slots__ = ("leading", "waiting")

    def __init__(self) -> None:
        self.waiting: list[tuple[T, asyncio.Future[R]]] = []
        self.leading = False


class LoopCombiner(Generic[T, P, R]):
    """``prepare`` then ``finish`` over batches of items awaited by coroutines (see the module).

    ``prepare`` runs for one batch at a time per loop, in arrival order; ``finish`` returns one
    entry per item: its result, or the exception its caller gets. If a step raises, every caller
    of that batch gets the exception.
    """

    def __init__(
        self,
        prepare: Callable[[list[T]], P],
        finish: Callable[[P], list[R | Exception]],
        max_batch: int,
        executor: Callable[[], Executor],
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._prepare = prepare
        self._finish = finish
        self._max_batch = max_batch
        self._executor = executor
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[T, R]] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()  # held until done: the loop keeps weak references
        self.batches = 0
        self.items = 0

    async def run(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        future: asyncio.Future[R] = loop.create_future()
        state.waiting.append((item, future))
        if not state.leading:
            state.leading = True
            self._spawn(loop, self._lead(loop, state))
        return await future

    def _spawn(self, loop: asyncio.AbstractEventLoop, step: Coroutine[object, object, None]) -> None:
        task = loop.create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _lead(self, loop: asyncio.AbstractEventLoop, state: _LoopState[T, R]) -> None:
        try:
            while state.waiting:
                batch = state.waiting[: self._max_batch]
                del state.waiting[: self._max_batch]
                self.batches += 1
                self.items += len(batch)
                try:
                    prepared = await loop.run_in_executor(
                        self._executor(), self._prepare, [item for item, _ in batch]
                    )
                except Exception as exc:  # noqa: BLE001 - every caller of the batch must hear about it
                    _fail(batch, exc)
                    continue
                self._spawn(loop, self._finish_batch(loop, batch, prepared))
        finally:
            state.leading = False

    async def _finish_batch(
        self, loop: asyncio.AbstractEventLoop, batch: list[tuple[T, asyncio.Future[R]]], prepared: P
    ) -> None:
        try:
            results = await loop.run_in_executor(self._executor(), self._finish, prepared)
        except Exception as exc:  # noqa: BLE001 - as above
            _fail(batch, exc)
            return
        if len(results) != len(batch):
            _fail(batch, RuntimeError(f"combined step gave {len(results)} results for {len(batch)} items"))
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller went away (cancelled): nobody to tell
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
