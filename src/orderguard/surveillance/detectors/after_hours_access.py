"""after_hours_access: an order view outside business hours; past N in a local day, high severity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import I64, DayColumns, dense_unique
from orderguard.surveillance.context import DAY_NS, NS_PER_SECOND, OFFSET_BUCKET_NS
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.detectors.wording import counted

_EPOCH = date(1970, 1, 1)


def _explain(
    actor: str, account: str | None, records: int | None, *, day: int, tod: int, n: int, high: int
) -> str:
    seconds = tod // NS_PER_SECOND
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    when = f"{_EPOCH + timedelta(days=day)} {clock} firm time"
    count = counted(records, "record") if records is not None else "? records"
    target = f"{count} of account {account or '?'}"
    text = f"{actor} viewed {target} at {when}, outside business hours"
    if n > high:
        return f"{text}; after-hours view number {n} that day, more than {high}."
    return text + "."


class AfterHoursAccess(Detector):
    rule: ClassVar[str] = "after_hours_access"
    description: ClassVar[str] = "Client order data viewed outside business hours."
    kinds: ClassVar[frozenset[EventKind]] = frozenset({EventKind.ORDER_VIEW})

    @property
    def high_count(self) -> int:
        return self.ctx.detectors.after_hours_access.daily_high_count

    @property
    def high_severity(self) -> str:
        return self.ctx.detectors.after_hours_access.high_severity

    def initial_state(self) -> dict[str, Any]:
        # actor -> {local day -> [count, ids of the first high_count views]}
        return {"days": {}}

    def bind_state(self) -> None:
        # [from, until): a span of time known to be inside business hours (a cache, not state).
        self._inside = (0, 0)

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {EventKind.ORDER_VIEW: self._view}

    def _inside_span(self, ts: int, day_start: int) -> tuple[int, int]:
        """The span around ``ts`` (inside business hours) where the answer cannot change.

        Within one offset bucket and one local day, the time of day grows with ts,
        so the business-hours test is a single range of ts there.
        """
        lo = max(ts - ts % OFFSET_BUCKET_NS, day_start)
        hi = min(ts - ts % OFFSET_BUCKET_NS + OFFSET_BUCKET_NS, day_start + DAY_NS)
        start, end = self.ctx.hours_start_ns, self.ctx.hours_end_ns
        if start <= end:
            return max(lo, day_start + start), min(hi, day_start + end)
        if ts - day_start >= start:
            return max(lo, day_start + start), hi
        return lo, min(hi, day_start + end)

    def _view(self, event: Event) -> Sequence[Alert]:
        ts = event.ts
        inside = self._inside
        if inside[0] <= ts < inside[1]:
            return NO_ALERTS
        day, tod = self.ctx.local_day_and_time(ts)
        if self.ctx.in_business_hours(day, tod):
            self._inside = self._inside_span(ts, ts - tod)
            return NO_ALERTS
        per_day: dict[int, list[Any]] = self.state["days"].setdefault(event.actor, {})
        for old in [d for d in per_day if d < day - 1]:
            del per_day[old]
        entry = per_day.setdefault(day, [0, []])
        entry[0] += 1
        n: int = entry[0]
        first: list[str] = entry[1]
        if n <= self.high_count:
            first.append(event.event_id)
            ids: tuple[str, ...] = (event.event_id,)
        else:
            ids = (*first, event.event_id)
        alert = self._alert(event.actor, event.account, event.records, ts=ts, day=day, tod=tod, n=n, ids=ids)
        return (alert,)

    def _alert(
        self,
        actor: str,
        account: str | None,
        records: int | None,
        *,
        ts: int,
        day: int,
        tod: int,
        n: int,
        ids: tuple[str, ...],
    ) -> Alert:
        return self.alert(
            actor=actor,
            symbol=None,
            ts=ts,
            event_ids=ids,
            explanation=_explain(actor, account, records, day=day, tod=tod, n=n, high=self.high_count),
            severity=self.high_severity if n > self.high_count else None,
        )

    def local_clock(self, ts: I64) -> tuple[I64, I64]:
        """Vectorised local (day, time of day) through the same cached offsets as the stream."""
        buckets = ts // OFFSET_BUCKET_NS
        first = int(buckets.min()) if len(buckets) else 0
        unique, inverse = dense_unique(buckets - first)
        unique = unique + first
        offsets = np.array(
            [self.ctx.utc_offset_ns(int(b) * OFFSET_BUCKET_NS) for b in unique], dtype=np.int64
        )
        local = ts + offsets[inverse.reshape(-1)] if len(unique) else ts
        day = local // DAY_NS
        return day, local - day * DAY_NS

    def scan(self, day: DayColumns) -> list[Alert]:
        views = day.rows(EventKind.ORDER_VIEW)
        days, tods = self.local_clock(day.ts[views])
        start, end = self.ctx.hours_start_ns, self.ctx.hours_end_ns
        clock_ok = (tods >= start) & (tods < end) if start <= end else (tods >= start) | (tods < end)
        weekday_ok = np.isin((days + 3) % 7, sorted(self.ctx.weekdays))
        outside = ~(clock_ok & weekday_ok)
        pos, days, tods = views[outside], days[outside], tods[outside]
        actor = day.coded("actor").codes[pos]
        order = np.lexsort((pos, days, actor))
        pos, days, tods, actor = pos[order], days[order], tods[order], actor[order]
        new_group = np.ones(len(pos), dtype=bool)
        new_group[1:] = (actor[1:] != actor[:-1]) | (days[1:] != days[:-1])
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(pos)), 0))
        rank = np.arange(len(pos)) - group_start + 1
        ids, actors, accounts = day.event_ids(pos), day.strings("actor", pos), day.strings("account", pos)
        records = day.records_at(pos).tolist()
        alerts = []
        for i in range(len(pos)):
            n = int(rank[i])
            if n <= self.high_count:
                key: tuple[str, ...] = (ids[i],)
            else:
                s = int(group_start[i])
                key = (*ids[s : s + self.high_count], ids[i])
            rec = records[i] if records[i] >= 0 else None
            alerts.append(
                self._alert(
                    actors[i] or "",
                    accounts[i],
                    rec,
                    ts=int(day.ts[pos[i]]),
                    day=int(days[i]),
                    tod=int(tods[i]),
                    n=n,
                    ids=key,
                )
            )
        return alerts
