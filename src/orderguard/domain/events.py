"""Domain events of the interchange format v1 (docs/event-format.md).

Timestamps are integers: nanoseconds since the Unix epoch, UTC. Python's
datetime stops at microseconds, and the format promises nanoseconds, so an
int is the only lossless in-memory form. ``seq`` is stamped at intake and
breaks ties between equal timestamps: the total order of events is (ts, seq).
"""

from __future__ import annotations

import re
import time
from calendar import timegm
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class EventKind(StrEnum):
    CLIENT_ORDER = "client_order"
    PERSONAL_TRADE = "personal_trade"
    EXECUTION = "execution"
    ORDER_VIEW = "order_view"
    DATA_EXPORT = "data_export"
    LOGIN = "login"
    ROUTE_CHANGE = "route_change"
    ORDER_CANCEL = "order_cancel"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


COMMON_REQUIRED: Final = ("event_id", "ts", "kind", "actor")

# Fields each kind must carry beyond COMMON_REQUIRED. A detector may rely on them.
REQUIRED_FIELDS: Final[MappingProxyType[EventKind, tuple[str, ...]]] = MappingProxyType(
    {
        EventKind.CLIENT_ORDER: ("account", "symbol", "side", "qty", "order_id"),
        EventKind.PERSONAL_TRADE: ("account", "symbol", "side", "qty", "price"),
        EventKind.EXECUTION: ("account", "symbol", "side", "qty", "price", "order_id", "venue"),
        EventKind.ORDER_VIEW: ("account", "records"),
        EventKind.DATA_EXPORT: ("records",),
        EventKind.LOGIN: (),
        EventKind.ROUTE_CHANGE: ("venue",),
        EventKind.ORDER_CANCEL: ("order_id",),
    }
)

STRING_FIELDS: Final = (
    "event_id",
    "kind",
    "actor",
    "account",
    "symbol",
    "side",
    "venue",
    "order_id",
    "ip",
    "session_id",
)
FLOAT_FIELDS: Final = ("qty", "price")
INT_FIELDS: Final = ("records",)
V1_FIELDS: Final = (*STRING_FIELDS[:2], "ts", *STRING_FIELDS[2:], *FLOAT_FIELDS, *INT_FIELDS)
# The fields beyond COMMON_REQUIRED, in column order (Arrow tables, files, JSON records).
OPTIONAL_FIELDS: Final = (
    "account",
    "symbol",
    "side",
    "qty",
    "price",
    "venue",
    "order_id",
    "records",
    "ip",
    "session_id",
)

NS_PER_SECOND: Final = 1_000_000_000

_TS_RE: Final = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]00:00)$"
)


class TimestampError(ValueError):
    """A timestamp that is not RFC 3339 UTC."""


def parse_ts(text: str) -> int:
    """RFC 3339 UTC text ('Z' or '+00:00', up to 9 fractional digits) to epoch nanoseconds."""
    match = _TS_RE.match(text)
    if match is None:
        raise TimestampError(
            f"{text!r} is not an RFC 3339 UTC timestamp; expected e.g. 2026-11-20T14:30:00.123456789Z"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise TimestampError(f"{text!r} has an out-of-range date or time field")
    fraction = (match.group(7) or "").ljust(9, "0")
    seconds = timegm((year, month, day, hour, minute, second, 0, 0, 0))
    return seconds * NS_PER_SECOND + int(fraction or "0")


def format_ts(ns: int) -> str:
    """Epoch nanoseconds to RFC 3339 UTC text with nine fractional digits."""
    seconds, fraction = divmod(ns, NS_PER_SECOND)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{fraction:09d}Z"
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One v1 event. Optional fields are None where the kind does not use them."""

    event_id: str
    ts: int
    kind: EventKind
    actor: str
    seq: int = 0
    account: str | None = None
    symbol: str | None = None
    side: Side | None = None
    qty: float | None = None
    price: float | None = None
    venue: str | None = None
    order_id: str | None = None
    records: int | None = None
    ip: str | None = None
    session_id: str | None = None
    extra: MappingProxyType[str, object] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @property
    def notional(self) -> float | None:
        """qty x price, where both are known."""
        if self.qty is None or self.price is None:
            return None
        return self.qty * self.price

    def to_record(self) -> dict[str, object]:
        """The v1 record (JSON-ready): ts as RFC 3339 text, None fields left out."""
        record: dict[str, object] = {
            "event_id": self.event_id,
            "ts": format_ts(self.ts),
            "kind": self.kind.value,
            "actor": self.actor,
        }
        for name in OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                record[name] = value.value if isinstance(value, StrEnum) else value
        return record
