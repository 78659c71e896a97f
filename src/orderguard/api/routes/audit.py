"""The audit log: latest checkpoint, inclusion proofs, verification status and evidence bundles."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import Field

from orderguard.api.deps import Allowed, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse, Responses
from orderguard.api.schemas import CheckpointOut, ProofOut, VerifyOut

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
READ = Permission("read_audit", "AuditLog")
Reader = Annotated[object, Depends(Allowed(READ))]
MAX_INDEX = 2**62
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "no such entry or no checkpoint yet"}}


@router.get(
    "/checkpoint", response_model=CheckpointOut, responses=ERROR_RESPONSES, openapi_extra=READ.openapi()
)
def latest_checkpoint(ctx: Ctx, _: Reader) -> CheckpointOut:
    """The current tree head and the newest signed checkpoint note (C2SP signed-note text)."""
    from orderguard.audit.store import AuditStore

    size, root = ctx.audit.head()
    stored = AuditStore(ctx.engine).checkpoints()
    return CheckpointOut(size=size, root=root.hex(), note=stored[-1][2] if stored else None)


@router.get(
    "/proof/{index}",
    response_model=ProofOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=READ.openapi(),
)
def inclusion_proof(
    index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)],
    ctx: Ctx,
    _: Reader,
    size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
) -> ProofOut:
    """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries (default: now)."""
    from orderguard.audit.store import AuditStore

    head, _root = ctx.audit.head()
    tree_size = size or head
    if index < 0 or index >= tree_size or tree_size > head:
        raise ApiError(
            404, "NO_SUCH_ENTRY", f"entry {index} is not in a tree of {tree_size} (log size {head})"
        )
    stored = AuditStore(ctx.engine).entry(index)
    if stored is None:
        raise ApiError(404, "NO_SUCH_ENTRY", f"entry {index} is not stored")
    proof = ctx.audit.inclusion_proof(index, tree_size)
    return ProofOut(
        index=index,
        size=tree_size,
        leaf_hash=bytes(stored[1]).hex(),
        root=ctx.audit.root_at(tree_size).hex(),
        proof=[p.hex() for p in proof],
    )


@router.get("/verify", response_model=VerifyOut, responses=ERROR_RESPONSES, openapi_extra=READ.openapi())
def verify_status(ctx: Ctx, _: Reader) -> VerifyOut:
    """The result of the last full verification (``ok`` is null if none ran yet)."""
    if not ctx.last_verify:
        return VerifyOut(ok=None)
    return VerifyOut.model_validate(ctx.last_verify)


@router.post("/verify", response_model=VerifyOut, responses=ERROR_RESPONSES, openapi_extra=READ.openapi())
def verify_now(ctx: Ctx, _: Reader) -> VerifyOut:
    """Verify the whole log now: every leaf re-hashed, every checkpoint signature and root checked."""
    return VerifyOut.model_validate(ctx.verify_audit())


@router.get(
    "/bundle",
    responses={**ERROR_RESPONSES, **NOT_FOUND, 200: {"content": {"application/json": {}}}},
    openapi_extra=READ.openapi(),
)
def evidence_bundle(
    ctx: Ctx,
    _: Reader,
    index: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_INDEX)]] | None, Query(description="entry indexes (repeat)")
    ] = None,
) -> JSONResponse:
    """An offline-verifiable evidence bundle (format orderguard-audit-bundle/1) of the given entries."""
    from orderguard.audit.bundle import BundleError, export_bundle
    from orderguard.audit.store import AuditStore

    ctx.audit.checkpoint()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bundle.json"
        try:
            export_bundle(AuditStore(ctx.engine), ctx.keys, out, index or [ctx.audit.head()[0] - 1])
        except BundleError as exc:
            raise ApiError(404, "NO_SUCH_ENTRY", str(exc)) from None
        document = json.loads(out.read_text())
    return JSONResponse(
        document, headers={"Content-Disposition": 'attachment; filename="orderguard-bundle.json"'}
    )
