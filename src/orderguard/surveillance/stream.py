"""The streaming engine: one event at a time through every detector, with snapshot and restore.

Events must arrive in total order (ts, seq); an event that goes back in
time is refused, because a late event would make the stream's answer
differ from the batch engine's. A snapshot holds every detector's state
(builtins, dicts and deques only) and the engine's clock; restoring it into
an engine built from the same firm file continues exactly where it stopped.
"""

from __future__ import annotations

import io
import pickle
from collections import deque
from functools import partial
from typing import Any, Final

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.context import SurveillanceContext
from orderguard.surveillance.custom_rules import CustomRule
from orderguard.surveillance.detector import Detector, StreamHandler
from orderguard.surveillance.registry import build_detectors

# v2: the detectors' state layouts of the per-kind handlers; a v1 snapshot is refused, not misread.
SNAPSHOT_MAGIC: Final = b"orderguard-stream-snapshot-v2\n"


class OutOfOrderEventError(ValueError):
    """An event earlier in (ts, seq) than one the engine has already seen."""


class SnapshotError(ValueError):
    """Bytes that are not a snapshot of this engine's detectors."""


class _StateUnpickler(pickle.Unpickler):
    """Loads builtins and deques only: a snapshot cannot name any other class."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "deque":
            return deque
        if module == "builtins" and name in {
            "tuple",
            "list",
            "dict",
            "set",
            "frozenset",
            "int",
            "float",
            "str",
        }:
            return super().find_class(module, name)
        raise SnapshotError(f"snapshot refers to {module}.{name}, which a state snapshot never holds")


class StreamEngine:
    """Feeds events to each detector that reads their kind; returns alerts as soon as decidable."""

    def __init__(
        self,
        firm: FirmConfig,
        *,
        rules: tuple[str, ...] | None = None,
        custom: tuple[CustomRule, ...] = (),
    ) -> None:
        self.ctx = SurveillanceContext.from_config(firm)
        self.detectors: list[Detector] = build_detectors(self.ctx, rules)
        self.custom = custom
        self.seen = 0
        # (ts, seq) of the latest event as two ints: no tuple per event.
        self._last_ts = self._last_seq = -1
        self._started = False
        # Per kind, once: the handlers of only the detectors and rules that read that kind.
        tables = [d.stream_handlers() for d in self.detectors]
        self._handlers: dict[EventKind, tuple[StreamHandler, ...]] = {
            kind: (
                *(table[kind] for table in tables if kind in table),
                *(partial(r.observe, ctx=self.ctx) for r in custom if kind in r.kinds),
            )
            for kind in EventKind
        }

    @property
    def last(self) -> tuple[int, int] | None:
        """(ts, seq) of the latest event seen, None before the first."""
        return (self._last_ts, self._last_seq) if self._started else None

    def observe(self, event: Event) -> list[Alert]:
        """The alerts this event makes decidable (empty for most events)."""
        ts = event.ts
        if ts <= self._last_ts and self._started and (ts < self._last_ts or event.seq <= self._last_seq):
            raise OutOfOrderEventError(
                f"event {event.event_id!r} at (ts={ts}, seq={event.seq}) is not after the previous "
                f"event (ts={self._last_ts}, seq={self._last_seq}); feed events in (ts, seq) order"
            )
        self._last_ts = ts
        self._last_seq = event.seq
        self._started = True
        self.seen += 1
        alerts: list[Alert] = []
        for handler in self._handlers[event.kind]:
            found = handler(event)
            if found:
                alerts += found
        return alerts

    def snapshot(self) -> bytes:
        """Every detector's state and the clock, as bytes for ``restore``."""
        payload = {
            "last": self.last,
            "seen": self.seen,
            "detectors": {d.rule: d.state for d in self.detectors},
        }
        return SNAPSHOT_MAGIC + pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, blob: bytes) -> None:
        """Continue from a snapshot taken by an engine with the same detectors."""
        if not blob.startswith(SNAPSHOT_MAGIC):
            raise SnapshotError("not an orderguard stream snapshot (bad header)")
        try:
            payload = _StateUnpickler(io.BytesIO(blob[len(SNAPSHOT_MAGIC) :])).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise SnapshotError(f"corrupt stream snapshot: {exc}") from None
        states = payload["detectors"]
        missing = {d.rule for d in self.detectors} ^ set(states)
        if missing:
            raise SnapshotError(f"snapshot detectors differ from this engine's: {sorted(missing)}")
        for detector in self.detectors:
            detector.state = states[detector.rule]
        last = payload["last"]
        self._started = last is not None
        self._last_ts, self._last_seq = (-1, -1) if last is None else (int(last[0]), int(last[1]))
        self.seen = int(payload["seen"])
