"""The audit log: latest checkpoint, inclusion proofs, verification status, evidence bundles and
payload erasure (an ``audit_erasure`` approval first; refused while a legal hold covers the entry)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse, Responses
from orderguard.api.schemas import CheckpointOut, ProofOut, VerifyOut, VoteResult

if TYPE_CHECKING:
    from orderguard.wiring.audit_erasure import ErasureDesk

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
READ = Permission("read_audit", "AuditLog")
Reader = Annotated[object, Depends(Allowed(READ))]
REQUEST_ERASURE = Permission(
    "request_audit_erasure", "AuditLog", decided_by="approval engine: audit_erasure (never the requester)"
)
ERASE = Permission(
    "erase_audit_payload", "AuditLog", decided_by="approval engine: a met audit_erasure; legal holds"
)
MAX_INDEX = 2**62
T = TypeVar("T")
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


class ErasureIn(BaseModel):
    """What to erase and why; ``approval_id`` is the met ``audit_erasure`` request (erase only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(min_length=1, max_length=2000, description="e.g. the court order reference")
    approval_id: str | None = Field(default=None, max_length=200)


class ErasureOut(BaseModel):
    index: int
    erasure_index: int = Field(description="log index of the `erased` entry recording this erasure")
    reason: str


def _on_erasure_desk(ctx: Ctx, call: Callable[[ErasureDesk], T]) -> T:
    """``call`` on the erasure desk, its refusals as API errors: an entry that does not exist is a
    404, a refused erasure (legal hold, approval) a 403 with its reason code."""
    from orderguard.audit.erasure import ErasureRefusedError
    from orderguard.wiring.audit_erasure import ErasureEntryError

    desk = _erasure_desk(ctx)
    try:
        return call(desk)
    except ErasureEntryError as exc:
        raise ApiError(404, "NO_SUCH_ENTRY", str(exc)) from None
    except ErasureRefusedError as exc:
        raise ApiError(403, exc.decision.reason.value, exc.decision.message) from None


def _erasure_desk(ctx: Ctx) -> ErasureDesk:
    try:
        return ctx.erasure_desk()
    except RuntimeError as exc:
        raise ApiError(503, "STAGE_UNAVAILABLE", str(exc)) from None


@router.post(
    "/entries/{index}/erasure-request",
    response_model=VoteResult,
    status_code=201,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=REQUEST_ERASURE.openapi(),
)
def request_erasure(
    index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)],
    body: ErasureIn,
    ctx: Ctx,
    caller: Annotated[Caller, Depends(Allowed(REQUEST_ERASURE))],
) -> VoteResult:
    """Open the ``audit_erasure`` approval request for entry ``index`` and ``reason``."""
    from orderguard.api.routes.approvals import vote_result

    if body.approval_id is not None:
        raise ApiError(400, "BAD_CHANGE", "approval_id: an erasure request opens the approval; leave it out")
    decision, request = _on_erasure_desk(
        ctx, lambda desk: desk.request(index, requested_by=caller.id, reason=body.reason)
    )
    if request is None:
        raise ApiError(403, decision.reason.value, decision.message)
    return vote_result(decision, request)


@router.post(
    "/entries/{index}/erase",
    response_model=ErasureOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=ERASE.openapi(),
)
def erase_payload(
    index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)],
    body: ErasureIn,
    ctx: Ctx,
    caller: Annotated[Caller, Depends(Allowed(ERASE))],
) -> ErasureOut:
    """Erase entry ``index``'s payload under a met approval; every hash, root and proof stays valid.

    403 with ``LEGAL_HOLD`` while a hold covers the entry's object or actor, or with the approval's
    reason code (``APPROVAL_REQUIRED``, ``APPROVAL_STALE`` for another reason, ...); both are logged.
    """
    approval = body.approval_id
    if approval is None:
        raise ApiError(403, "APPROVAL_REQUIRED", "approval_id: erasure needs a met audit_erasure approval")
    erased_at = _on_erasure_desk(
        ctx, lambda desk: desk.erase(index, requested_by=caller.id, reason=body.reason, approval=approval)
    )
    return ErasureOut(index=index, erasure_index=erased_at, reason=body.reason)
