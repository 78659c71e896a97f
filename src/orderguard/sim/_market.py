"""Symbols with Zipf-skewed activity, per-symbol random-walk prices, and the day's clock in UTC ns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from orderguard.config import FirmConfig

NS = 1_000_000_000
MINUTE = 60 * NS
HOUR = 60 * MINUTE
MARKET_ZONE = ZoneInfo("America/New_York")
_WELL_KNOWN = [
    "AAPL",
    "MSFT",
    "NVDA",
    "AMZN",
    "GOOGL",
    "META",
    "TSLA",
    "JPM",
    "V",
    "UNH",
    "XOM",
    "JNJ",
    "WMT",
    "PG",
    "MA",
    "HD",
    "CVX",
    "MRK",
    "ABBV",
    "KO",
    "PEP",
    "AVGO",
    "COST",
    "ORCL",
    "BAC",
    "ADBE",
    "CRM",
    "NFLX",
    "AMD",
    "INTC",
    "CSCO",
    "TMO",
    "ACN",
    "MCD",
    "ABT",
    "DHR",
    "LIN",
    "TXN",
    "WFC",
    "DIS",
    "PM",
    "NEE",
    "VZ",
    "IBM",
    "QCOM",
]


def local_ns(date: dt.date, clock: dt.time, zone: ZoneInfo) -> int:
    """The UTC instant, in epoch ns, of a wall-clock time on ``date`` in ``zone``."""
    moment = dt.datetime.combine(date, clock, tzinfo=zone)
    return int(moment.timestamp()) * NS


@dataclass(frozen=True)
class DayClock:
    """The instants that bound the day's activity, in epoch ns."""

    open_ns: int  # 09:30 New York: first client order
    close_ns: int  # 16:00 New York
    office_start_ns: int  # firm business hours: views, logins, exports stay inside them
    office_end_ns: int

    @classmethod
    def of(cls, date: dt.date, firm: FirmConfig) -> DayClock:
        hours = firm.business_hours
        if date.weekday() not in hours.weekdays:
            raise ValueError(
                f"{date} is not a business day of {firm.firm!r} (weekdays {list(hours.weekdays)})"
            )
        clock = cls(
            local_ns(date, dt.time(9, 30), MARKET_ZONE),
            local_ns(date, dt.time(16, 0), MARKET_ZONE),
            local_ns(date, hours.start, hours.zone),
            local_ns(date, hours.end, hours.zone),
        )
        if clock.office_end_ns - clock.office_start_ns < 2 * HOUR:
            raise ValueError(
                f"business hours of {firm.firm!r} are shorter than two hours; cannot place a day"
            )
        return clock


def symbols(rng: np.random.Generator, count: int, excluded: set[str]) -> tuple[str, ...]:
    """Well-known tickers first, then made-up 3-4 letter ones; restricted symbols never appear."""
    chosen = [s for s in _WELL_KNOWN if s not in excluded][:count]
    seen = set(chosen) | excluded
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    while len(chosen) < count:
        size = int(rng.integers(3, 5))
        name = "".join(letters[rng.integers(0, 26, size)])
        if name not in seen:
            seen.add(name)
            chosen.append(name)
    return tuple(chosen)


def zipf_weights(count: int, exponent: float = 1.1) -> np.ndarray:
    """Activity share of the symbol at each rank: a few names dominate, a long tail trades rarely."""
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return np.asarray(weights / weights.sum())


class PricePaths:
    """A geometric random walk per symbol on a one-minute grid from the open; prices in cents."""

    def __init__(self, rng: np.random.Generator, count: int, start_ns: int, minutes: int) -> None:
        self._start_ns = start_ns
        self._minutes = minutes
        base = np.clip(np.exp(rng.normal(np.log(60.0), 0.9, count)), 3.0, 900.0)
        steps = rng.normal(0.0, 0.0007, (count, minutes))
        self._paths = base[:, None] * np.exp(np.cumsum(steps, axis=1))

    def at(self, symbol: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """The walk's price of each symbol at each instant (clamped to the grid), rounded to cents."""
        minute = np.clip((ts - self._start_ns) // MINUTE, 0, self._minutes - 1)
        return np.asarray(np.round(self._paths[symbol, minute], 2))
