"""Flat combining: items handed in by concurrent threads are processed together by one of them.

A caller that finds nobody processing becomes the leader: it takes every waiting item (its own
among them, at most ``max_batch``) and runs the batch's ``prepare`` step; then it passes the
lead to the oldest item still waiting and runs the ``finish`` step (which may block, e.g. on a
durable commit) while the next leader already prepares the next batch. Then it hands each
caller of its batch its result. A lone caller processes its own item at once (a batch of
one, no added latency); under concurrency, batches form by themselves while a leader works,
as in a group commit, and the blocking steps of successive batches overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
P = TypeVar("P")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("error", "item", "lead", "outcome", "ready")

    def __init__(self, item: T) -> None:
        self.item = item
        self.ready = threading.Lock()  # held until the slot has a result or the lead
        self.ready.acquire()
        self.lead = False
        self.outcome: tuple[R] | None = None  # (result,) once processed without error
        self.error: BaseException | None = None


def _no_finish(results: list[R]) -> list[R]:
    return results


class Combiner(Generic[T, P, R]):
    """Runs ``prepare`` then ``finish`` over batches of concurrently submitted items.

    ``prepare`` runs for one batch at a time, in arrival order; ``finish`` runs outside the
    lead, so several batches may be finishing at once. ``finish`` returns one result per item,
    in order; if either step raises, every caller of that batch gets the exception.
    """

    def __init__(
        self,
        prepare: Callable[[list[T]], P],
        finish: Callable[[P], list[R]] = _no_finish,  # type: ignore[assignment]
        max_batch: int = 64,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._prepare = prepare
        self._finish = finish
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot[T, R]] = []
        self._busy = False  # a leader is preparing; pending items wait for it to pass the lead
        self.batches = 0
        self.items = 0

    @property
    def waiting(self) -> int:
        """Items queued behind the batch being prepared."""
        return len(self._pending)

    def run(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.ready.acquire()
            lead = slot.lead
        if lead:
            self._lead()
        if slot.error is not None:
            raise slot.error
        assert slot.outcome is not None
        return slot.outcome[0]

    def _lead(self) -> None:
        with self._lock:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
        self.batches += 1
        self.items += len(batch)
        error: BaseException | None = None
        try:
            prepared = self._prepare([slot.item for slot in batch])
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch must hear about it
            error = exc
        self._pass_lead()
        if error is None:
            try:
                results = self._finish(prepared)
            except BaseException as exc:  # noqa: BLE001 - as above
                error = exc
            else:
                if len(results) != len(batch):
                    error = RuntimeError(f"combined step gave {len(results)} results for {len(batch)} items")
        for position, slot in enumerate(batch):
            if error is None:
                slot.outcome = (results[position],)
            slot.error = error
        for slot in batch[1:]:  # batch[0] is the leader's own slot: it is awake
            slot.ready.release()

    def _pass_lead(self) -> None:
        with self._lock:
            successor = self._pending[0] if self._pending else None
            if successor is None:
                self._busy = False
            else:
                successor.lead = True
        if successor is not None:
            successor.ready.release()
