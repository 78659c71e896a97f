"""What any pure-Python stream engine of this shape pays at least, for bench_surveillance.py's stream part.

The engine calls one handler per (detector, kind) that reads an event's kind. The "keyed floor" runs the
same events through the same fan-out (as many handlers per kind as the real detectors have), each handler
doing the least a per-key state machine can: one dict read and one dict write keyed by the event's actor.
No detector can cost less than that, so this bounds from below what CPython can reach with this design.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def _touch() -> Callable[[Any], tuple[Any, ...]]:
    counts: dict[str, int] = {}

    def handler(event: Any) -> tuple[Any, ...]:
        actor = event.actor
        counts[actor] = counts.get(actor, 0) + 1
        return ()

    return handler


def keyed_floor(detectors: list[Any], stream: list[Any]) -> dict[str, float]:
    """Events/s through the detectors' fan-out of one-read-one-write handlers, and handlers per event."""
    tables = [detector.stream_handlers() for detector in detectors]
    fan_out = {
        kind: tuple(_touch() for table in tables if kind in table) for kind in {e.kind for e in stream}
    }
    kept: list[Any] = []
    start = time.perf_counter()
    for event in stream:
        for handler in fan_out[event.kind]:
            found = handler(event)
            if found:
                kept += found
    seconds = time.perf_counter() - start
    calls = sum(len(fan_out[event.kind]) for event in stream)
    return {"keyed_floor_per_second": len(stream) / seconds, "handlers_per_event": calls / len(stream)}
