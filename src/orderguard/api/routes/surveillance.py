"""Batch surveillance on demand, and the state of live surveillance.

The scan runs in the API process, so a rule's automatic response (a block, a suspension) holds
for the very next request. Cedar's ``run_surveillance`` decides who may start one, and who may
read the live stage's status (``wiring.live_surveillance``).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from orderguard.api.deps import Allowed, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from orderguard.api.schemas import RuleCount, ScanIn, ScanOut
from orderguard.domain.events import TimestampError, format_ts, parse_ts

router = APIRouter(prefix="/api/v1", tags=["surveillance"])
RUN = Permission("run_surveillance", "Surveillance")


def _instant(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except TimestampError as exc:
        raise ApiError(400, "BAD_RANGE", f"{field}: {exc}") from None


@router.post(
    "/surveillance/scan",
    response_model=ScanOut,
    responses={**ERROR_RESPONSES, 400: {"model": ErrorResponse, "description": "bad time range"}},
    openapi_extra=RUN.openapi(),
)
def scan(
    ctx: Ctx,
    _: Annotated[object, Depends(Allowed(RUN))],
    body: Annotated[ScanIn | None, Body()] = None,
) -> ScanOut:
    """Scan the stored events (all, or ``[start, end)``) and store new alerts; counts per rule."""
    window = body or ScanIn()
    start, end = _instant(window.start, "start"), _instant(window.end, "end")
    if start is not None and end is not None and start >= end:
        raise ApiError(400, "BAD_RANGE", f"end ({window.end}) must be after start ({window.start})")
    run = ctx.surveil(start, end)
    found = Counter(a.rule for a in run.alerts)
    rule_of = {a.alert_id: a.rule for a in run.alerts}
    stored = Counter(rule_of[i] for i in run.stored)
    return ScanOut(
        events=run.events,
        alerts=len(run.alerts),
        stored=len(run.stored),
        duplicates=len(run.duplicates),
        by_rule={rule: RuleCount(found=n, stored=stored[rule]) for rule, n in sorted(found.items())},
    )


class LivePosition(BaseModel):
    ts: str
    seq: int


class LiveStatusOut(BaseModel):
    """The live surveillance stage: ``mode`` off when ``serve --surveillance off``."""

    mode: Literal["live", "off"]
    state: str | None = None
    live_since: str | None = None
    restored: str | None = None
    events_observed: int = 0
    events_observed_since_start: int = 0
    position: LivePosition | None = None
    lag_seconds: float = 0.0
    late_events: int = 0
    alerts_raised: int = 0
    alerts_already_stored: int = 0
    last_alert_at: str | None = None
    errors: int = 0
    lateness_seconds: float | None = None


@router.get(
    "/surveillance/status",
    response_model=LiveStatusOut,
    responses=ERROR_RESPONSES,
    openapi_extra=RUN.openapi(),
)
def status(ctx: Ctx, _: Annotated[object, Depends(Allowed(RUN))]) -> LiveStatusOut:
    """Live surveillance: events observed, lag, late events, alerts raised and when the last came."""
    if ctx.live is None:
        return LiveStatusOut(mode="off")
    live = ctx.live.status()
    at = live.position
    position = None if at is None else LivePosition(ts=format_ts(at[0]), seq=at[1])
    return LiveStatusOut(
        mode="live",
        state=live.state,
        live_since=None if live.since_ns is None else format_ts(live.since_ns),
        restored=live.restored,
        events_observed=live.events_observed,
        events_observed_since_start=live.events_observed_here,
        position=position,
        lag_seconds=round(live.lag_seconds, 3),
        late_events=live.late_events,
        alerts_raised=live.alerts_raised,
        alerts_already_stored=live.alerts_already_stored,
        last_alert_at=None if live.last_alert_ns is None else format_ts(live.last_alert_ns),
        errors=live.errors,
        lateness_seconds=live.lateness_seconds,
    )
