"""The market-data feed: reference prices for the four-eyes threshold, stored whole or not at all."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from orderguard.gateway.reference_feed import ACTION, BAD_INPUT, RESOURCE, ReferenceFeed
from orderguard.gateway.reference_input import ReferenceInputError, parse_rows

router = APIRouter(prefix="/api/v1", tags=["controls"])
PUBLISH = Permission(ACTION, RESOURCE, decided_by="cedar (the admin role runs the market-data feed)")
MAX_BODY = 16 * 1024 * 1024
_ROW_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["symbol", "price", "ts"],
    "properties": {
        "symbol": {"type": "string", "example": "AAPL"},
        "price": {"type": "number", "exclusiveMinimum": 0, "example": 187.5},
        "ts": {"type": "string", "format": "date-time", "example": "2026-11-20T21:00:00Z"},
    },
}


class PublishedPrices(BaseModel):
    """What was stored: how many prices, from which source, at which audit index."""

    count: int
    source: str
    audit_index: int


@router.post(
    "/reference-prices",
    response_model=PublishedPrices,
    status_code=201,
    responses={**ERROR_RESPONSES, 400: {"model": ErrorResponse, "description": "bad row or field"}},
    openapi_extra={
        **PUBLISH.openapi(),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["prices"],
                        "properties": {"prices": {"type": "array", "items": _ROW_SCHEMA}},
                    }
                }
            },
        },
    },
)
async def publish_reference_prices(
    request: Request, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(PUBLISH))]
) -> PublishedPrices:
    """Store a batch of {symbol, price, ts}; a bad row refuses the whole batch (400 names row and field)."""
    feed = ReferenceFeed(ctx.controls.controls.reference_prices, ctx.audit)
    source = f"feed:{caller.id}"
    body = await request.body()
    try:
        updates = parse_rows(_rows_of(body), source, "request body prices", now_ns=ctx.clock())
    except ReferenceInputError as exc:
        message = str(exc)
        await run_in_threadpool(
            lambda: feed.refuse(
                caller.id,
                BAD_INPUT,
                message,
                source=source,
                now=ctx.clock(),
                ip=caller.ip,
                session_id=caller.session_id,
            )
        )
        raise ApiError(400, BAD_INPUT, message) from None
    index = await run_in_threadpool(
        lambda: feed.publish(
            caller.id, updates, source=source, now=ctx.clock(), ip=caller.ip, session_id=caller.session_id
        )
    )
    return PublishedPrices(count=len(updates), source=source, audit_index=index)


def _rows_of(body: bytes) -> list[dict[str, object]]:
    """The body's ``prices`` list (NaN and Infinity parse here and are refused by row and field)."""
    if len(body) > MAX_BODY:
        raise ReferenceInputError(f"request body: more than {MAX_BODY // 2**20} MiB; split the batch")
    try:
        data = json.loads(body)
    except ValueError as exc:  # also UnicodeDecodeError, and an integer of more than 4,300 digits
        raise ReferenceInputError(f"request body: not JSON ({exc})") from None
    if not isinstance(data, dict) or "prices" not in data:
        raise ReferenceInputError('request body: expected {"prices": [{"symbol", "price", "ts"}, ...]}')
    unknown = sorted(str(k) for k in data if k != "prices")
    if unknown:
        raise ReferenceInputError(f"request body: unknown field {unknown[0]!r}; only 'prices' is read")
    rows = data["prices"]
    if not isinstance(rows, list):
        raise ReferenceInputError("request body field 'prices': expected a list of rows")
    return rows
