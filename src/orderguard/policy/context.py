"""What Cedar sees about a request: the order facts context and the business-hours flag."""

from __future__ import annotations

from datetime import UTC, datetime

from orderguard.config import BusinessHours
from orderguard.domain import Account

NS = 1_000_000_000


def order_context(
    account: Account, *, venue: str, venue_approved: bool, business_hours: bool, large: bool, quorum_met: bool
) -> dict[str, object]:
    """The Cedar context for an order action (schema type OrderContext)."""
    order: dict[str, object] = {
        "account_type": account.type.value,
        "owner": {"__entity": {"type": "User", "id": account.owner}},
        "venue": venue,
        "venue_approved": venue_approved,
    }
    if account.desk is not None:
        order["desk"] = account.desk
    return {"order": order, "business_hours": business_hours, "large_order": large, "quorum_met": quorum_met}


class BusinessHoursClock:
    """Is an instant inside the firm's business hours? Answers are cached per minute."""

    def __init__(self, hours: BusinessHours) -> None:
        self.hours = hours
        self._cache: dict[int, bool] = {}

    def __call__(self, ts: int) -> bool:
        minute = ts // (60 * NS)
        answer = self._cache.get(minute)
        if answer is None:
            local = datetime.fromtimestamp(minute * 60, UTC).astimezone(self.hours.zone)
            answer = (
                local.weekday() in self.hours.weekdays and self.hours.start <= local.time() < self.hours.end
            )
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[minute] = answer
        return answer
