"""The case page's evidence bundle: preserve the case (attach the alerts' evidence, audit the export)
and hand the browser an offline-verifiable bundle (``orderguard audit verify-bundle FILE``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from orderguard.api.deps import Ctx
from orderguard.api.routes.cases import WORK as WORK_CASES
from orderguard.cases.model import AccessDeniedError, CaseError
from orderguard.web.render import CurrentWebUser, form_allowed, page, refused_page

router = APIRouter(include_in_schema=False)


@router.post("/cases/{case_id}/export", response_model=None, openapi_extra=WORK_CASES.openapi())
async def export_case_bundle(request: Request, case_id: str, ctx: Ctx, user: CurrentWebUser) -> Response:
    """Download ``<case>-bundle.json``: the case's alerts, responses and every audited action of the
    subject, with inclusion proofs and a freshly signed checkpoint."""
    from orderguard.cases.playbooks import preserve

    refused = await form_allowed(request, ctx, user, WORK_CASES)
    if refused:
        return refused
    folder = Path(tempfile.mkdtemp(prefix="orderguard-bundle-"))
    out = folder / f"{case_id}-bundle.json"
    try:
        # It scans the audit log and waits for durable appends: off the event loop.
        await run_in_threadpool(preserve, ctx.cases, case_id, investigator=user.id, out=out, keys=ctx.keys)
    except AccessDeniedError as exc:
        _remove(folder)
        return refused_page(request, ctx, user, exc)
    except CaseError as exc:
        _remove(folder)
        return page(request, ctx, user, "refused.html", 400, reason="BAD_CHANGE", message=str(exc))
    return FileResponse(
        out,
        media_type="application/json",
        filename=out.name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: Path) -> None:
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
