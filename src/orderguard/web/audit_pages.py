"""The auditors' pages: audit log status with its newest entries and a verify button, and the policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from orderguard.api.deps import Ctx
from orderguard.api.routes.audit import READ as READ_AUDIT
from orderguard.audit.encoding import EncodingError, decode_leaf
from orderguard.audit.store import AuditRangeError, AuditStore
from orderguard.policy.authorizer import POLICY_DIR
from orderguard.policy.sod import conflict_sets
from orderguard.web.render import CurrentWebUser, allowed, form_allowed, page

router = APIRouter(include_in_schema=False)
AUDIT_ENTRIES = 50  # per page
MISSING_ENTRY = "this entry is not in the store (deleted?): verify the log to see the break"


def audit_headers(store: AuditStore, start: int, stop: int) -> list[tuple[int, dict[str, object]]]:
    """(index, header) of entries ``start`` to ``stop - 1``, newest first, read in one query; an
    undecodable leaf shows as its error, and an entry missing from the store as a gap row (someone
    deleted it: the page must still show, and the verify button names the break)."""
    try:
        stored = store.entries(start, stop)
    except AuditRangeError:  # a hole in the range: read what is left, one entry at a time
        stored = [entry for entry in map(store.entry, range(start, stop)) if entry is not None]
    leaves = {index: leaf for index, _, leaf, _, _ in stored}
    found: list[tuple[int, dict[str, object]]] = []
    for index in range(stop - 1, start - 1, -1):
        leaf = leaves.get(index)
        if leaf is None:
            found.append((index, {"kind": "entry_missing", "action": MISSING_ENTRY}))
            continue
        try:
            found.append((index, decode_leaf(bytes(leaf)).header))
        except EncodingError as exc:
            found.append((index, {"kind": "unreadable", "action": str(exc)}))
    return found


@router.get("/audit", response_class=HTMLResponse, openapi_extra=READ_AUDIT.openapi())
def audit_status(
    request: Request,
    ctx: Ctx,
    user: CurrentWebUser,
    before: Annotated[int | None, Query(ge=1, description="show the entries numbered below this")] = None,
) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_AUDIT)
    if refused:
        return refused
    store = AuditStore(ctx.engine)
    size, root = ctx.audit.head()
    checkpoints = store.checkpoints()
    # Pages are anchored on entry numbers, not offsets: the log grows with every page view, and an
    # offset would shift the next page under the reader.
    top = min(before, size) if before else size
    bottom = max(top - AUDIT_ENTRIES, 0)
    return page(
        request,
        ctx,
        user,
        "audit.html",
        size=size,
        root=root.hex(),
        checkpoint=checkpoints[-1] if checkpoints else None,
        verify=ctx.last_verify,
        entries=audit_headers(store, bottom, top),
        older=f"/audit?before={bottom}" if bottom > 0 else None,
        newer=_newer(top, size),
    )


def _newer(top: int, size: int) -> str | None:
    """The link to the entries above ``top`` (none when the newest are shown)."""
    if top >= size:
        return None
    return "/audit" if top + AUDIT_ENTRIES >= size else f"/audit?before={top + AUDIT_ENTRIES}"


@router.post("/audit/verify", response_class=HTMLResponse, openapi_extra=READ_AUDIT.openapi())
async def audit_verify(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = await form_allowed(request, ctx, user, READ_AUDIT)
    if refused:
        return refused
    return page(request, ctx, user, "_verify.html", verify=ctx.verify_audit())


@router.get("/policy", response_class=HTMLResponse, openapi_extra=READ_AUDIT.openapi())
def policy_view(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_AUDIT)
    if refused:
        return refused
    directory = ctx.controls.directory
    conflicts = conflict_sets(ctx.config.controls.sod_conflicts)
    return page(
        request,
        ctx,
        user,
        "policy.html",
        principals=sorted(directory.all(), key=lambda p: p.id),
        suspended=directory.suspended,
        conflicts=conflicts,
        conflicted={
            p.id: directory.sod_decision(p.id) for p in directory.all() if directory.sod_decision(p.id)
        },
        cedar=(POLICY_DIR / "firm.cedar").read_text("utf-8"),
    )
