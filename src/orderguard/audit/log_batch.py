"""A batch of the audit log's group commit, and waking the coroutines that await its commit."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class LogBatch:
    """Entries the sequencer commits together, and the callers waiting for that commit."""

    __slots__ = ("done", "error", "first_index", "items", "waiters")

    def __init__(self) -> None:
        self.items: list[tuple[bytes, bytes, bytes]] = []  # (commitment + header, salt, payload)
        # A lock held until the batch is settled: waiting on it is cheaper than an Event's Condition.
        self.done = threading.Lock()
        self.done.acquire()
        self.first_index = -1
        self.error: BaseException | None = None
        # Coroutines awaiting this batch, by event loop: each awaits its own future (a cancelled caller
        # cancels only its own), and each loop is woken once per batch to settle all of its futures.
        self.waiters: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}

    def add(self, encoded: list[tuple[bytes, bytes, bytes]], future: asyncio.Future[None] | None) -> int:
        """Join ``encoded`` (and an awaiting caller's ``future``): the position of its first entry."""
        position = len(self.items)
        self.items += encoded
        if future is not None:
            loop = future.get_loop()
            waiting = self.waiters.get(loop)
            if waiting is None:
                self.waiters[loop] = [future]
            else:
                waiting.append(future)
        return position


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a cancelled caller's future is done already
            future.set_result(None)


def wake_waiters(waiters: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]]) -> None:
    """Settle each loop's futures with one thread-safe call per loop (a closed loop has nobody to wake)."""
    for loop, futures in waiters.items():
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, futures)
