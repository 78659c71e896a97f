"""What every detector needs from the firm file, computed once: lookups and time arithmetic.

Both engines call the same functions here, so a value such as the local time
of day of a view is computed identically in a replay and in a live stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from orderguard.config import DetectorsConfig, FirmConfig
from orderguard.domain import Side

NS_PER_SECOND: Final = 1_000_000_000
DAY_NS: Final = 86_400 * NS_PER_SECOND
HOUR_NS: Final = 3_600 * NS_PER_SECOND
# Time-zone offsets are constant within a quarter hour of UTC for every modern zone.
OFFSET_BUCKET_NS: Final = 900 * NS_PER_SECOND


def seconds_to_ns(seconds: float) -> int:
    """A configured duration in whole nanoseconds."""
    return round(seconds * NS_PER_SECOND)


def _time_ns(hour: int, minute: int, second: int, microsecond: int) -> int:
    return ((hour * 60 + minute) * 60 + second) * NS_PER_SECOND + microsecond * 1000


def median(values: list[int] | list[float]) -> float:
    """The median (mean of the middle two for an even count); the one formula both engines use."""
    return median_of_sorted(sorted(values))


def median_of_sorted(ordered: list[int] | list[float]) -> float:
    """The median of an already sorted, non-empty list."""
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return float(ordered[mid])
    return (float(ordered[mid - 1]) + float(ordered[mid])) / 2.0


@dataclass
class SurveillanceContext:
    """Firm-derived lookups shared by the detectors of one engine."""

    detectors: DetectorsConfig
    families: dict[str, str]
    beneficial_owner: dict[str, str]
    approved_venues: frozenset[str]
    zone: ZoneInfo
    hours_start_ns: int
    hours_end_ns: int
    weekdays: frozenset[int]
    peer_groups: dict[str, str] = field(default_factory=dict)
    # The four-eyes threshold ([controls] large_order_notional) and [reference_prices]: structuring's inputs.
    large_order_notional: float = 1_000_000.0
    reference_prices: dict[str, float] = field(default_factory=dict)
    _offsets: dict[int, int] = field(default_factory=dict, repr=False)
    # side -> symbol -> (family, side value): one shared key tuple per instrument and side.
    _family_sides: dict[Side, dict[str, tuple[str, str]]] = field(
        default_factory=lambda: {Side.BUY: {}, Side.SELL: {}}, repr=False
    )

    @classmethod
    def from_config(cls, firm: FirmConfig) -> SurveillanceContext:
        families: dict[str, str] = {}
        for base, related in firm.controls.related_instruments.items():
            families.setdefault(base, base)
            for symbol in related:
                families[symbol] = base
        hours = firm.business_hours
        return cls(
            detectors=firm.detectors,
            families=families,
            beneficial_owner={a.id: a.beneficial_owner for a in firm.accounts().values()},
            approved_venues=firm.approved_venues(),
            zone=hours.zone,
            hours_start_ns=_time_ns(hours.start.hour, hours.start.minute, hours.start.second, 0)
            + hours.start.microsecond * 1000,
            hours_end_ns=_time_ns(hours.end.hour, hours.end.minute, hours.end.second, 0)
            + hours.end.microsecond * 1000,
            weekdays=frozenset(hours.weekdays),
            peer_groups={p.id: "+".join(sorted(r.value for r in p.roles)) for p in firm.principals},
            large_order_notional=firm.controls.large_order_notional,
            reference_prices={s: float(p) for s, p in firm.reference_prices.items()},
        )

    def family(self, symbol: str) -> str:
        """The instrument family: an underlying and the instruments the firm relates to it."""
        return self.families.get(symbol, symbol)

    def family_side(self, symbol: str, side: Side) -> tuple[str, str]:
        """(family, side value): the key the stream detectors index instruments by, built once."""
        key = self._family_sides[side].get(symbol)
        if key is None:
            key = self._family_sides[side][symbol] = (self.family(symbol), side.value)
        return key

    def peer_group(self, actor: str) -> str:
        """The actor's peer group: everyone holding exactly the same roles (unknown actors together)."""
        return self.peer_groups.get(actor, "(unknown)")

    def owner_of(self, account: str) -> str:
        """The beneficial owner of an account; an account the firm does not know owns itself."""
        return self.beneficial_owner.get(account, "account:" + account)

    def utc_offset_ns(self, ts: int) -> int:
        """The firm zone's UTC offset at ``ts`` (cached per quarter hour)."""
        bucket = ts // OFFSET_BUCKET_NS
        offset = self._offsets.get(bucket)
        if offset is None:
            start_s = bucket * OFFSET_BUCKET_NS // NS_PER_SECOND
            delta = datetime.fromtimestamp(start_s, tz=UTC).astimezone(self.zone).utcoffset()
            offset = 0 if delta is None else round(delta.total_seconds()) * NS_PER_SECOND
            self._offsets[bucket] = offset
        return offset

    def local_day_and_time(self, ts: int) -> tuple[int, int]:
        """(local day number since 1970-01-01, local nanoseconds since midnight)."""
        local = ts + self.utc_offset_ns(ts)
        day = local // DAY_NS
        return day, local - day * DAY_NS

    def in_business_hours(self, day: int, time_of_day_ns: int) -> bool:
        """Whether a local day and time fall inside the firm's business hours."""
        if (day + 3) % 7 not in self.weekdays:  # 1970-01-01 was a Thursday (weekday 3)
            return False
        start, end = self.hours_start_ns, self.hours_end_ns
        if start <= end:
            return start <= time_of_day_ns < end
        return time_of_day_ns >= start or time_of_day_ns < end
