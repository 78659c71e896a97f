"""The compliance pages: approvals inbox, alert queue, case and a subject's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from orderguard.api.deps import Ctx
from orderguard.api.routes.approvals import OPEN, REJECT, VOTE, awaiting, mine, origin_of
from orderguard.api.routes.cases import READ as READ_CASES
from orderguard.api.routes.cases import WORK as WORK_CASES
from orderguard.cases.listing import AlertFilter
from orderguard.cases.model import AccessDeniedError, AlertStatus, CaseError, Disposition
from orderguard.cases.timeline import TimelineEntry
from orderguard.domain import Role
from orderguard.web.alert_queue import queue_view
from orderguard.web.paging import Pages
from orderguard.web.render import CurrentWebUser, allowed, allowed_quiet, form_allowed, page, refused_page

router = APIRouter(include_in_schema=False)
INBOX = OPEN  # everyone sees their own requests; only approvers see what waits for them
SUBJECT_EVENTS = 100  # per page
ALERTS_PER_PAGE = 50
SHORT_TIMELINE = 40  # entries; a longer case timeline opens on the part near the alerts
NEAR_ALERT_NS = 30 * 60 * 1_000_000_000


@router.get("/approvals", response_class=HTMLResponse, openapi_extra=INBOX.openapi())
def approvals_inbox(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = allowed(request, ctx, user, INBOX)
    if refused:
        return refused
    return page(
        request,
        ctx,
        user,
        "approvals.html",
        waiting=awaiting(ctx, user.id) if allowed_quiet(ctx, user, VOTE) else [],
        mine=mine(ctx, user.id)[:20],
        now=ctx.clock(),
    )


class VoteForm(BaseModel):
    """What an approve or reject form sends: the digest of the content shown, and a note."""

    digest: str
    note: str = ""


Vote = Annotated[VoteForm, Form()]


@router.post("/approvals/{request_id}/approve", response_class=HTMLResponse, openapi_extra=VOTE.openapi())
async def approve(request: Request, request_id: str, ctx: Ctx, user: CurrentWebUser, vote: Vote) -> Response:
    return await _vote(request, ctx, user, request_id, vote, approve=True)


@router.post("/approvals/{request_id}/reject", response_class=HTMLResponse, openapi_extra=REJECT.openapi())
async def reject(request: Request, request_id: str, ctx: Ctx, user: CurrentWebUser, vote: Vote) -> Response:
    return await _vote(request, ctx, user, request_id, vote, approve=False)


async def _vote(
    request: Request, ctx: Ctx, user: CurrentWebUser, request_id: str, vote: VoteForm, *, approve: bool
) -> HTMLResponse:
    refused = await form_allowed(request, ctx, user, VOTE if approve else REJECT)
    if refused:
        return refused
    engine = ctx.controls.approvals
    origin = origin_of(user.caller)  # refusals are audited with the voter's IP and session too
    if approve:
        decision = engine.approve(request_id, user.id, vote.digest, ctx.clock(), origin=origin)
    else:
        decision = engine.reject(request_id, user.id, vote.digest, ctx.clock(), vote.note, origin=origin)
    return page(
        request,
        ctx,
        user,
        "_vote_result.html",
        decision=decision,
        request_id=request_id,
        request_after=engine.store.get(request_id),
    )


@router.get("/alerts", response_class=HTMLResponse, openapi_extra=READ_CASES.openapi())
def alert_queue(
    request: Request,
    *,
    ctx: Ctx,
    user: CurrentWebUser,
    rule: str = "",
    severity: str = "",
    status: str = "open",
    subject: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
    per_page: Annotated[int, Query(ge=5, le=500)] = ALERTS_PER_PAGE,
) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_CASES)
    if refused:
        return refused
    is_htmx = request.headers.get("hx-request") == "true"
    filters = {"rule": rule, "severity": severity, "status": status, "subject": subject}
    shown = filters if per_page == ALERTS_PER_PAGE else {**filters, "per_page": str(per_page)}
    try:  # one page read in SQL (web/alert_queue.py)
        view = queue_view(
            ctx.cases, user.id, filters, page_number, per_page, linked=shown, table_only=is_htmx
        )
    except AccessDeniedError as exc:
        return refused_page(request, ctx, user, exc)
    return page(
        request,
        ctx,
        user,
        "_alerts_table.html" if is_htmx else "alerts.html",
        200,
        **view,
        default_per_page=ALERTS_PER_PAGE,
        statuses=["open", *(st.value for st in AlertStatus)],
        filters=filters,
        names={p.id: p.name for p in ctx.controls.directory.all()},
    )


def _near_alerts(
    timeline: list[TimelineEntry], alert_ts: list[int], key_refs: set[str]
) -> list[TimelineEntry]:
    """The part of a long timeline a reviewer reads first: the alerts' own events and whatever the
    subject did within ``NEAR_ALERT_NS`` of an alert (a short timeline is shown whole)."""
    if len(timeline) <= SHORT_TIMELINE:
        return timeline
    return [
        t for t in timeline if t.ref in key_refs or any(abs(t.ts_ns - ts) <= NEAR_ALERT_NS for ts in alert_ts)
    ]


@router.get("/cases/{case_id}", response_class=HTMLResponse, openapi_extra=READ_CASES.openapi())
def case_page(request: Request, case_id: str, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_CASES)
    if refused:
        return refused
    cases = ctx.cases
    try:
        view = cases.cases.show(case_id, actor=user.id)
        timeline = cases.cases.timeline(case_id, actor=user.id)
    except AccessDeniedError as exc:
        return refused_page(request, ctx, user, exc)
    except CaseError as exc:
        return page(request, ctx, user, "refused.html", 404, reason="NOT_FOUND", message=str(exc))
    key_refs = {event_id for stored in view.alerts for event_id in stored.alert.event_ids}
    return page(
        request,
        ctx,
        user,
        "case.html",
        view=view,
        case=view.case,
        timeline=timeline,
        near=_near_alerts(timeline, [s.alert.ts for s in view.alerts], key_refs),
        key_refs=key_refs,
        subject_name=getattr(ctx.controls.directory.get(view.case.subject), "name", view.case.subject),
        investigators=sorted(
            p.id
            for p in ctx.controls.directory.all()
            if p.id != view.case.subject and p.roles & {Role.COMPLIANCE, Role.SECURITY}
        ),
        dispositions=[d.value for d in Disposition],
        can_work=allowed_quiet(ctx, user, WORK_CASES),
    )


@router.post("/cases/{case_id}/{change}", response_model=None, openapi_extra=WORK_CASES.openapi())
async def change_case(
    request: Request, case_id: str, change: str, ctx: Ctx, user: CurrentWebUser
) -> Response:
    refused = await form_allowed(request, ctx, user, WORK_CASES)
    if refused:
        return refused
    form = {k: str(v) for k, v in (await request.form()).items()}
    cases = ctx.cases
    try:
        if change == "comment":
            cases.cases.comment(case_id, form.get("body", ""), actor=user.id)
        elif change == "evidence":
            cases.cases.attach_alert_evidence(case_id, actor=user.id)
        elif change == "close":
            cases.cases.close(case_id, Disposition(form.get("disposition", "")), actor=user.id)
        elif change == "respond":
            subject = cases.cases.show(case_id, actor=user.id).case.subject
            reason = form.get("reason", "").strip() or "taken from the case page"
            kind = form.get("kind", "")
            if kind == "suspend":
                cases.responses.suspend(subject, actor=user.id, reason=reason, case_id=case_id)
            elif kind == "legal_hold":
                cases.responses.legal_hold(subject, actor=user.id, reason=reason, case_id=case_id)
            else:
                cases.responses.force_reapproval(subject, actor=user.id, reason=reason, case_id=case_id)
        else:
            return page(
                request, ctx, user, "refused.html", 404, reason="NOT_FOUND", message=f"no change {change!r}"
            )
    except AccessDeniedError as exc:
        return refused_page(request, ctx, user, exc)
    except (CaseError, ValueError) as exc:
        return page(request, ctx, user, "refused.html", 400, reason="BAD_CHANGE", message=str(exc))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/subjects/{subject}", response_class=HTMLResponse, openapi_extra=READ_CASES.openapi())
def subject_timeline(
    request: Request,
    subject: str,
    ctx: Ctx,
    user: CurrentWebUser,
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_CASES)
    if refused:
        return refused
    if subject == user.id:
        return page(
            request,
            ctx,
            user,
            "refused.html",
            403,
            reason="NOT_AUTHORIZED",
            message="Nobody may review their own activity here.",
        )
    events = ctx.events.by_actor(subject)
    cases = ctx.cases
    try:
        alerts = cases.lists.alerts(actor=user.id, filters=AlertFilter(subject=subject), limit=None)
    except AccessDeniedError:
        alerts = []
    pages = Pages.of(f"/subjects/{subject}", {}, len(events), page_number, SUBJECT_EVENTS)
    return page(
        request,
        ctx,
        user,
        "subject.html",
        subject=subject,
        principal=ctx.controls.directory.get(subject),
        suspended=subject in ctx.controls.directory.suspended,
        events=pages.slice(events[::-1]),
        pages=pages,
        alerts=alerts,  # newest first
        case_ids=sorted({s.case_id for s in alerts}),
    )
