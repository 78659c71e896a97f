"""The stream handlers' shortcuts: caches that must answer exactly as the context they stand in for."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.config import BusinessHours, FirmConfig
from orderguard.domain.events import Event, EventKind, parse_ts
from orderguard.surveillance.context import SurveillanceContext
from orderguard.surveillance.detectors.after_hours_access import AfterHoursAccess
from orderguard.surveillance.registry import build_detectors
from orderguard.surveillance.stream import SNAPSHOT_MAGIC, SnapshotError, StreamEngine

MINUTE = 60 * 1_000_000_000
DAYS_3 = 3 * 24 * 60  # in minutes
# 2026-03-07, two days before New York's spring-forward and across a weekend.
START = parse_ts("2026-03-07T00:00:00Z")
# Not on quarter hours, so that no bound of the cached span hides behind an offset bucket's.
HOURS = {
    "day": BusinessHours(timezone="America/New_York", start=time(6, 7), end=time(21, 53)),
    "overnight": BusinessHours(timezone="America/New_York", start=time(20, 38), end=time(4, 11)),
    "odd zone": BusinessHours(timezone="Asia/Kathmandu", start=time(10, 1), end=time(17, 1)),
}


def detector(firm: FirmConfig, hours: BusinessHours) -> AfterHoursAccess:
    changed = firm.model_copy(update={"business_hours": hours})
    return AfterHoursAccess(SurveillanceContext.from_config(changed))


def view(n: int, ts: int) -> Event:
    return Event(event_id=f"e{n}", ts=ts, kind=EventKind.ORDER_VIEW, actor=f"a{n}", seq=n, records=1)


class TestAfterHoursSpan:
    @pytest.mark.parametrize("name", sorted(HOURS))
    @settings(max_examples=40, deadline=None)
    @given(steps=st.lists(st.integers(min_value=-DAYS_3, max_value=DAYS_3), min_size=1, max_size=60))
    def test_cached_span_answers_as_the_context(self, firm: FirmConfig, name: str, steps: list[int]) -> None:
        """A view alerts exactly when the context puts it outside business hours, in any order of times."""
        found = detector(firm, HOURS[name])
        ctx = found.ctx
        for n, step in enumerate(steps):
            ts = START + 3 * 24 * 60 * MINUTE + step * MINUTE + n
            outside = not ctx.in_business_hours(*ctx.local_day_and_time(ts))
            assert bool(found.observe(view(n, ts))) is outside

    def test_every_minute_of_a_week(self, firm: FirmConfig) -> None:
        """Around each minute of a week with a clock change, both ways in time, no answer changes."""
        steps = range(3 * 7 * 24 * 60)  # each minute's last, first and second nanosecond
        for hours, order in [(h, o) for h in HOURS.values() for o in (steps, reversed(steps))]:
            found = detector(firm, hours)
            ctx = found.ctx
            for n in order:
                ts = START + (n // 3) * MINUTE + n % 3 - 1
                outside = not ctx.in_business_hours(*ctx.local_day_and_time(ts))
                assert bool(found.observe(view(n, ts))) is outside


class TestSnapshotVersion:
    def test_first_version_snapshot_is_refused(self, firm: FirmConfig) -> None:
        """A snapshot in the first state layout is refused by name, never misread."""
        engine = StreamEngine(firm)
        old = engine.snapshot().replace(SNAPSHOT_MAGIC, b"orderguard-stream-snapshot-v1\n", 1)
        with pytest.raises(SnapshotError, match="bad header"):
            StreamEngine(firm).restore(old)


def test_each_detector_handles_exactly_the_kinds_it_declares(firm: FirmConfig) -> None:
    """``kinds`` (documented) and the ``stream_handlers`` keys (what the engine dispatches on) agree."""
    for found in build_detectors(SurveillanceContext.from_config(firm)):
        assert set(found.stream_handlers()) == found.kinds, found.rule
