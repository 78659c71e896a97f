"""Event ingestion: a JSON Lines body (interchange format v1) into the event store, all or nothing."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from orderguard.api.deps import Allowed, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from orderguard.api.schemas import IngestResult

router = APIRouter(prefix="/api/v1", tags=["events"])
INGEST = Permission("ingest_events", "EventStream")
MAX_BODY = 50 * 1024 * 1024


@router.post(
    "/events",
    response_model=IngestResult,
    status_code=201,
    responses={
        **ERROR_RESPONSES,
        400: {"model": ErrorResponse, "description": "bad line, field or duplicate"},
    },
    openapi_extra={
        **INGEST.openapi(),
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
    },
)
async def ingest_events(
    request: Request, ctx: Ctx, _: Annotated[object, Depends(Allowed(INGEST))]
) -> IngestResult:
    """Store a batch of v1 events sent as JSON Lines; a bad line rejects the whole batch (400 names it)."""
    from orderguard.ingest import IngestError, batch_from_records
    from orderguard.storage.events_arrow import EventBatchError
    from orderguard.storage.events_store import DuplicateEventError

    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(413, "TOO_LARGE", f"send at most {MAX_BODY // 2**20} MiB per request; split the file")
    records: list[dict[str, object]] = []
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ApiError(400, "BAD_EVENT", f"request body line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ApiError(400, "BAD_EVENT", f"request body line {number}: expected a JSON object")
        records.append(record)
    if not records:
        raise ApiError(400, "BAD_EVENT", "request body holds no events; send one JSON object per line")
    try:
        batch = batch_from_records(records, source="request body")
        result = ctx.events.append_batch(batch.table)
    except (IngestError, DuplicateEventError, EventBatchError) as exc:
        raise ApiError(400, "BAD_EVENT", str(exc)) from None
    return IngestResult(
        events=len(batch),
        first_seq=result.first_seq,
        last_seq=result.last_seq,
        by_kind=batch.counts_by_kind(),
    )
