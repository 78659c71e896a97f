"""The compliance pages: approvals inbox, alert queue, case, subject timeline, audit status, policy."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from orderguard.api.deps import Ctx
from orderguard.api.routes.approvals import OPEN, REJECT, VOTE, awaiting, mine
from orderguard.api.routes.audit import READ as READ_AUDIT
from orderguard.api.routes.cases import READ as READ_CASES
from orderguard.api.routes.cases import WORK as WORK_CASES
from orderguard.api.routes.cases import filter_alerts
from orderguard.cases.model import AccessDeniedError, AlertStatus, CaseError, Disposition
from orderguard.policy.authorizer import POLICY_DIR
from orderguard.policy.sod import conflict_sets
from orderguard.web.render import CurrentWebUser, allowed, allowed_quiet, form_allowed, page, refused_page

router = APIRouter(include_in_schema=False)
INBOX = OPEN  # everyone sees their own requests; only approvers see what waits for them
SUBJECT_EVENTS = 200


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
    if approve:
        decision = engine.approve(request_id, user.id, vote.digest, ctx.clock())
    else:
        decision = engine.reject(request_id, user.id, vote.digest, ctx.clock(), vote.note)
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
) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_CASES)
    if refused:
        return refused
    cases = ctx.cases
    try:
        everything = cases.alerts.list_alerts(actor=user.id)
        listed = cases.cases.list_cases(actor=user.id)
    except AccessDeniedError as exc:
        return refused_page(request, ctx, user, exc)
    chosen = [
        s
        for s in filter_alerts(
            everything, rule=rule or None, severity=severity or None, subject=subject or None
        )
        if not status or (s.status.value != "closed" if status == "open" else s.status.value == status)
    ]
    is_htmx = request.headers.get("hx-request") == "true"
    return page(
        request,
        ctx,
        user,
        "_alerts_table.html" if is_htmx else "alerts.html",
        items=chosen,
        rules=sorted({s.alert.rule for s in everything}),
        subjects=sorted({s.alert.actor for s in everything}),
        statuses=["open", *(st.value for st in AlertStatus)],
        filters={"rule": rule, "severity": severity, "status": status, "subject": subject},
        cases=listed,
        alert_counts=Counter(s.case_id for s in everything),
    )


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
    return page(
        request,
        ctx,
        user,
        "case.html",
        view=view,
        case=view.case,
        timeline=timeline,
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
def subject_timeline(request: Request, subject: str, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
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
        alerts = [s for s in cases.alerts.list_alerts(actor=user.id) if s.alert.actor == subject]
    except AccessDeniedError:
        alerts = []
    return page(
        request,
        ctx,
        user,
        "subject.html",
        subject=subject,
        principal=ctx.controls.directory.get(subject),
        events=events[-SUBJECT_EVENTS:],
        total=len(events),
        alerts=alerts,
        case_ids=sorted({s.case_id for s in alerts}),
    )


@router.get("/audit", response_class=HTMLResponse, openapi_extra=READ_AUDIT.openapi())
def audit_status(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    refused = allowed(request, ctx, user, READ_AUDIT)
    if refused:
        return refused
    from orderguard.audit.store import AuditStore

    size, root = ctx.audit.head()
    checkpoints = AuditStore(ctx.engine).checkpoints()
    return page(
        request,
        ctx,
        user,
        "audit.html",
        size=size,
        root=root.hex(),
        checkpoint=checkpoints[-1] if checkpoints else None,
        verify=ctx.last_verify,
    )


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
