"""Batch surveillance on demand: scan the stored events and hand the alerts to the case desk.

The scan runs in the API process, so a rule's automatic response (a block, a suspension) holds
for the very next request. Cedar's ``run_surveillance`` decides who may start one.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from orderguard.api.deps import Allowed, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from orderguard.api.schemas import RuleCount, ScanIn, ScanOut
from orderguard.domain.events import TimestampError, parse_ts

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
