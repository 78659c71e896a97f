"""The desk signer's own policy: whom it signs for, and how much, whatever the API process asks.

The signer process holds the desk's custodial order-signing keys. It signs an intent only if the
originator is a trader of the firm file (and not a key custodian), the intent's lifetime is within
the connector's maximum, and the originator stays within the signer's own limits: orders per second
and (optionally) notional per minute. Each limit is counted twice: on the signer's own clock (when
it signs) and in fixed buckets of the intent's ``created_ns`` (the order time), so orders dated into
one future window cannot be signed slowly and then executed at once (across a bucket boundary up
to twice a limit fits). Buckets whose orders would have expired by the wall clock are forgotten:
such orders are refused at a connector on real time anyway (a demo replaying a past day is counted
on the signer's clock only). So an intruder in the API process can make it sign only what a trader
could have entered, at a trader's pace, and the record of what it signed is the signer's.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from orderguard.domain import Decision, Principal, ReasonCode, Role
from orderguard.execution.intent import OrderIntent

NS: Final = 1_000_000_000
MAX_LIFETIME_NS: Final = 300 * NS  # the connector's maximum order lifetime (ConnectorPolicy)
MINUTE_NS: Final = 60 * NS
DEFAULT_ORDERS_PER_SECOND: Final = 5_000  # per originator: far above a trader, below a runaway script


@dataclass(frozen=True, slots=True)
class SignerLimits:
    """Per originator, on the signer's clock. ``max_notional_per_minute`` None: no volume limit."""

    max_orders_per_second: int = DEFAULT_ORDERS_PER_SECOND
    max_notional_per_minute: Decimal | None = None


class _Record:
    """One originator's recent signatures: times in the last second, (time, notional) in the last minute."""

    __slots__ = ("minute", "notional", "second")

    def __init__(self) -> None:
        self.second: deque[int] = deque()
        self.minute: deque[tuple[int, Decimal]] = deque()
        self.notional = Decimal(0)

    def forget_before(self, now: int) -> None:
        while self.second and self.second[0] <= now - NS:
            self.second.popleft()
        while self.minute and self.minute[0][0] <= now - MINUTE_NS:
            self.notional -= self.minute.popleft()[1]


class _OrderTime:
    """One originator's signatures by order time: count per second, notional per minute (buckets)."""

    __slots__ = ("minute", "second")

    def __init__(self) -> None:
        self.second: dict[int, int] = {}
        self.minute: dict[int, Decimal] = {}

    def forget_before(self, oldest_ns: int) -> None:
        for bucket in [b for b in self.second if (b + 1) * NS <= oldest_ns]:
            del self.second[bucket]
        for bucket in [b for b in self.minute if (b + 1) * MINUTE_NS <= oldest_ns]:
            del self.minute[bucket]


class DeskSignerPolicy:
    """Decides, per intent, whether the signer signs it; records each signature it allows."""

    def __init__(
        self,
        principals: Iterable[Principal],
        limits: SignerLimits = SignerLimits(),
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """``clock`` counts the limits when the signer signs; ``wall_clock`` (epoch ns) says which order
        times are past expiry, so their buckets can go."""
        self._principals = {p.id: p for p in principals}
        self._limits = limits
        self._clock = clock
        self._wall_clock = wall_clock
        self._records: dict[str, _Record] = {}
        self._order_times: dict[str, _OrderTime] = {}
        self.signed = 0  # orders signed since start
        self.refused = 0

    def check(self, intent: OrderIntent) -> Decision | None:
        """None (and the signature recorded) if the signer may sign ``intent``, else the refusal."""
        refusal = self._refusal(intent)
        if refusal is not None:
            self.refused += 1
            return refusal
        self.signed += 1
        return None

    def _refusal(self, intent: OrderIntent) -> Decision | None:  # noqa: PLR0911 - one return per reason
        who = intent.originator
        principal = self._principals.get(who)
        if principal is None:
            return Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"{who} is not in the firm file: no desk key signs"
            )
        if principal.has(Role.KEY_CUSTODIAN):
            message = f"{who} is a key custodian: the desk signer signs no orders of theirs"
            return Decision.deny(ReasonCode.SOD_CONFLICTING_ROLES, message)
        if not principal.has(Role.TRADER):
            return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"{who} is not a trader: the desk signer refuses")
        if intent.expires_ns - intent.created_ns > MAX_LIFETIME_NS:
            return Decision.deny(ReasonCode.EXPIRED, f"order {intent.order_id} would live over 300 s")
        now = self._clock()
        record = self._records.setdefault(who, _Record())
        record.forget_before(now)
        by_order_time = self._order_times.setdefault(who, _OrderTime())
        by_order_time.forget_before(self._wall_clock() - MAX_LIFETIME_NS)
        second, minute = intent.created_ns // NS, intent.created_ns // MINUTE_NS
        limits = self._limits
        rate = limits.max_orders_per_second
        if len(record.second) >= rate or by_order_time.second.get(second, 0) >= rate:
            message = f"{who} reached the desk signer's {rate} orders per second"
            return Decision.deny(ReasonCode.SIGNER_LIMIT, message)
        notional = intent.notional
        cap = limits.max_notional_per_minute
        if (
            cap is not None
            and max(record.notional, by_order_time.minute.get(minute, Decimal(0))) + notional > cap
        ):
            message = f"{who} would pass the desk signer's notional of {cap} per minute"
            return Decision.deny(ReasonCode.SIGNER_LIMIT, message)
        record.second.append(now)
        record.minute.append((now, notional))
        record.notional += notional
        by_order_time.second[second] = by_order_time.second.get(second, 0) + 1
        by_order_time.minute[minute] = by_order_time.minute.get(minute, Decimal(0)) + notional
        return None
