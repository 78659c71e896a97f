"""bulk_export: a data export far above both a floor and the actor's own habit.

The baseline is the median record count of the actor's earlier exports seen
by the engine within the last ``baseline_days`` days (query_volume's
setting); with no such history the floor alone decides. Exports are rare, so
the batch path walks the export rows with the very same rule as the stream.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.context import DAY_NS, median_of_sorted
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.detectors.wording import counted


class BulkExport(Detector):
    rule: ClassVar[str] = "bulk_export"
    description: ClassVar[str] = "A data export far larger than the floor and than the actor's habit."
    kinds: ClassVar[frozenset[EventKind]] = frozenset({EventKind.DATA_EXPORT})

    def initial_state(self) -> dict[str, Any]:
        # actor -> [deque[(ts, records)] in arrival order, sorted list of the same records]
        return {"history": {}}

    def _check(self, actor: str, ts: int, records: int, event_id: str) -> Alert | None:
        settings = self.ctx.detectors.bulk_export
        history = self.state["history"].get(actor)
        if history is None:
            history = self.state["history"][actor] = [deque(), []]
        arrivals: deque[tuple[int, int]] = history[0]
        ordered: list[int] = history[1]
        horizon = ts - self.ctx.detectors.query_volume.baseline_days * DAY_NS
        while arrivals and arrivals[0][0] < horizon:
            del ordered[bisect_left(ordered, arrivals.popleft()[1])]
        # The median is needed only above the floor, which most exports are not.
        baseline = median_of_sorted(ordered) if records > settings.floor and ordered else None
        arrivals.append((ts, records))
        insort(ordered, records)
        if records <= settings.floor:
            return None
        if baseline is not None and not records > settings.baseline_multiple * baseline:
            return None
        habit = (
            "no earlier export on record"
            if baseline is None
            else f"{records / baseline:.1f}x the median {baseline:g} of earlier exports"
            if baseline > 0
            else "earlier exports were empty"
        )
        return self.alert(
            actor=actor,
            symbol=None,
            ts=ts,
            event_ids=(event_id,),
            explanation=(
                f"{actor} exported {counted(records, 'record')}, above the floor of {settings.floor:,} "
                f"({habit}): possible sale of order-flow information."
            ),
        )

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {EventKind.DATA_EXPORT: self._export}

    def _export(self, event: Event) -> Sequence[Alert]:
        if event.records is None:
            return NO_ALERTS
        found = self._check(event.actor, event.ts, event.records, event.event_id)
        return (found,) if found else NO_ALERTS

    def scan(self, day: DayColumns) -> list[Alert]:
        pos = day.rows(EventKind.DATA_EXPORT)
        records = day.records_at(pos)
        pos, records = pos[records >= 0], records[records >= 0]
        ids, actors = day.event_ids(pos), day.strings("actor", pos)
        self.state = self.initial_state()
        alerts = []
        for i, p in enumerate(pos.tolist()):
            found = self._check(actors[i] or "", int(day.ts[p]), int(records[i]), ids[i])
            if found:
                alerts.append(found)
        self.state = self.initial_state()
        return alerts
