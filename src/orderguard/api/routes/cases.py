"""Alerts (queue with filters, triage) and cases (timeline, comments, evidence, close); acting on a
case (assignment, responses) is in ``case_actions``.

Route permissions are Cedar's ``view_case`` / ``work_case``; the cases stage then applies its own
rules (nobody sees or works a case about themselves; conflicts of interest) and audits every read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query

from orderguard.api.case_schemas import (
    AlertMove,
    AlertOut,
    CaseDetailOut,
    CaseOut,
    CloseIn,
    CommentIn,
    EvidenceOut,
    ResponseOut,
    TimelineOut,
)
from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse, Responses
from orderguard.api.paging import PAGED_HEADERS, Key, Keyset, Paged
from orderguard.app import AppContext
from orderguard.cases.listing import AlertFilter, scope_of
from orderguard.cases.model import (
    AccessDeniedError,
    AlertStatus,
    Case,
    CaseError,
    CaseStatus,
    Disposition,
    Queue,
    Response,
    StoredAlert,
)
from orderguard.domain.events import TimestampError, format_ts, parse_ts

router = APIRouter(prefix="/api/v1", tags=["alerts and cases"])
READ = Permission("view_case", "Case")
WORK = Permission("work_case", "Case")
Reader = Annotated[Caller, Depends(Allowed(READ))]
Worker = Annotated[Caller, Depends(Allowed(WORK))]
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "no such alert or case"}}
PAGED: Responses = {**ERROR_RESPONSES, 200: {"headers": PAGED_HEADERS}}
T = TypeVar("T")


def guarded(call: Callable[[], T]) -> T:
    """Run a cases-stage call, turning its refusals into API errors (403 access, 404 unknown, 400 state)."""
    try:
        return call()
    except AccessDeniedError as exc:
        raise ApiError(403, exc.decision.reason.value, exc.decision.message) from None
    except CaseError as exc:
        code = 404 if str(exc).startswith(("no alert", "no case")) else 400
        raise ApiError(code, "NO_SUCH_ITEM" if code == 404 else "BAD_CHANGE", str(exc)) from None


def alert_out(s: StoredAlert) -> AlertOut:
    a = s.alert
    return AlertOut(
        alert_id=a.alert_id,
        rule=a.rule,
        severity=a.severity,
        actor=a.actor,
        symbol=a.symbol,
        ts=format_ts(a.ts),
        event_ids=list(a.event_ids),
        explanation=a.explanation,
        action=a.action,
        status=s.status.value,
        case_id=s.case_id,
        queues=[q.value for q in s.queues],
        disposition=None if s.disposition is None else s.disposition.value,
    )


def case_out(c: Case) -> CaseOut:
    return CaseOut(
        case_id=c.case_id,
        subject=c.subject,
        status=c.status.value,
        opened=format_ts(c.opened_ns),
        assignee=c.assignee,
        disposition=None if c.disposition is None else c.disposition.value,
    )


def response_out(r: Response) -> ResponseOut:
    return ResponseOut(
        response_id=r.response_id,
        kind=r.kind.value,
        subject=r.subject,
        reason=r.reason,
        created_by=r.created_by,
        created=format_ts(r.created_ns),
        active=r.active,
        pattern=None if r.pattern is None else r.pattern.describe(),
        lifted_by=r.lifted_by,
        approval_id=r.approval_id,
    )


def _instant(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except TimestampError as exc:
        raise ApiError(400, "BAD_FILTER", f"{name}: {exc}; write it as RFC 3339 UTC text") from None


def _key(found: Key | None) -> tuple[int, str] | None:
    """A decoded (int, str) cursor key in the type the store takes."""
    return None if found is None else (int(found[0]), str(found[1]))


@router.get("/alerts", response_model=list[AlertOut], responses=PAGED, openapi_extra=READ.openapi())
def list_alerts(
    ctx: Ctx,
    caller: Reader,
    paging: Paged,
    *,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: Annotated[str | None, Query(max_length=16)] = None,
    subject: Annotated[str | None, Query(max_length=128, description="the person alerted on")] = None,
    status: AlertStatus | None = None,
    queue: Annotated[Queue | None, Query(description="compliance or security")] = None,
    since: Annotated[str | None, Query(max_length=40, description="alerts at or after (RFC 3339)")] = None,
    until: Annotated[str | None, Query(max_length=40, description="alerts before (RFC 3339)")] = None,
) -> list[AlertOut]:
    """The alert queues, newest first, in pages, filtered by rule, severity, subject, status, queue
    and time; the database reads only the page asked for.

    Never the caller's own alerts. Only the page shown is recorded as read. A cursor only serves the
    filters it was made with.
    """
    filters = AlertFilter(
        rule=rule,
        severity=severity,
        subject=subject,
        statuses=None if status is None else frozenset({status}),
        queue=queue,
        since_ns=_instant(since, "since"),
        until_ns=_instant(until, "until"),
    )
    keyset: Keyset[StoredAlert] = paging.keyset(
        lambda s: (s.alert.ts, s.alert_id), (int, str), f"alerts:{filters.digest()}"
    )
    lists = ctx.cases.lists
    page = guarded(
        lambda: lists.alerts(
            actor=caller.id, filters=filters, limit=keyset.fetch, after=_key(keyset.after), shown=keyset.page
        )
    )
    return [alert_out(s) for s in page]


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=READ.openapi(),
)
def get_alert(alert_id: str, ctx: Ctx, caller: Reader) -> AlertOut:
    """One alert: the finding, the events it rests on, its queue, status and case."""
    cases = ctx.cases
    return alert_out(guarded(lambda: cases.alerts.get(alert_id, actor=caller.id)))


@router.post(
    "/alerts/{alert_id}/status",
    response_model=AlertOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=WORK.openapi(),
)
def move_alert(alert_id: str, body: AlertMove, ctx: Ctx, caller: Worker) -> AlertOut:
    """Triage, escalate or close (with a disposition) one alert."""
    alerts = ctx.cases.alerts
    if body.status == "triage":
        moved = guarded(lambda: alerts.triage(alert_id, actor=caller.id))
    elif body.status == "escalated":
        moved = guarded(lambda: alerts.escalate(alert_id, actor=caller.id))
    else:
        if body.disposition is None:
            raise ApiError(400, "BAD_CHANGE", f"closing alert {alert_id} needs a disposition")
        disposition = Disposition(body.disposition)
        moved = guarded(lambda: alerts.close(alert_id, actor=caller.id, disposition=disposition))
    return alert_out(moved)


@router.get("/cases", response_model=list[CaseOut], responses=PAGED, openapi_extra=READ.openapi())
def list_cases(
    ctx: Ctx,
    caller: Reader,
    paging: Paged,
    status: CaseStatus | None = None,
    subject: Annotated[str | None, Query(max_length=128, description="the person investigated")] = None,
) -> list[CaseOut]:
    """Cases (one open case per subject), oldest first, in pages, never the caller's own; the
    database reads only the page asked for."""
    scope = scope_of("cases", None if status is None else status.value, subject)
    keyset: Keyset[Case] = paging.keyset(lambda c: (c.opened_ns, c.case_id), (int, str), scope)
    lists = ctx.cases.lists
    page = guarded(
        lambda: lists.cases(
            actor=caller.id,
            status=status,
            subject=subject,
            limit=keyset.fetch,
            after=_key(keyset.after),
            shown=keyset.page,
        )
    )
    return [case_out(c) for c in page]


def case_detail(ctx: AppContext, case_id: str, actor: str) -> CaseDetailOut:
    cases = ctx.cases
    view = guarded(lambda: cases.cases.show(case_id, actor=actor))
    timeline = guarded(lambda: cases.cases.timeline(case_id, actor=actor))
    return CaseDetailOut(
        case=case_out(view.case),
        alerts=[alert_out(a) for a in view.alerts],
        comments=[TimelineOut(ts=format_ts(c.ts_ns), actor=c.author, what=c.body) for c in view.comments],
        evidence=[
            EvidenceOut(
                kind=e.kind, ref=e.ref, added_by=e.added_by, added=format_ts(e.ts_ns), content=e.content
            )
            for e in view.evidence
        ],
        responses=[response_out(r) for r in view.responses],
        timeline=[
            TimelineOut(ts=format_ts(t.ts_ns), actor=t.source, what=f"{t.kind}: {t.summary}")
            for t in timeline
        ],
    )


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetailOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=READ.openapi(),
)
def get_case(case_id: str, ctx: Ctx, caller: Reader) -> CaseDetailOut:
    """A case with its alerts, comments, evidence, responses and the subject's timeline around it."""
    return case_detail(ctx, case_id, caller.id)


@router.post(
    "/cases/{case_id}/comments",
    response_model=CaseDetailOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=WORK.openapi(),
)
def comment(case_id: str, body: CommentIn, ctx: Ctx, caller: Worker) -> CaseDetailOut:
    """Add a note to the case (audited)."""
    cases = ctx.cases
    guarded(lambda: cases.cases.comment(case_id, body.body, actor=caller.id))
    return case_detail(ctx, case_id, caller.id)


@router.post(
    "/cases/{case_id}/evidence",
    response_model=CaseDetailOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=WORK.openapi(),
)
def attach_evidence(case_id: str, ctx: Ctx, caller: Worker) -> CaseDetailOut:
    """Snapshot the alerts' events and audit entries (with inclusion proofs) into the case."""
    cases = ctx.cases
    guarded(lambda: cases.cases.attach_alert_evidence(case_id, actor=caller.id))
    return case_detail(ctx, case_id, caller.id)


@router.post(
    "/cases/{case_id}/close",
    response_model=CaseDetailOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=WORK.openapi(),
)
def close_case(case_id: str, body: CloseIn, ctx: Ctx, caller: Worker) -> CaseDetailOut:
    """Close the case and its open alerts with a disposition."""
    cases = ctx.cases
    disposition = Disposition(body.disposition)
    guarded(lambda: cases.cases.close(case_id, disposition, actor=caller.id))
    return case_detail(ctx, case_id, caller.id)
