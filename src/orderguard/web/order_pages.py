"""The trader's Orders page: enter an order, see my orders, cancel one, send an approved large order.

Every order goes through the same order desk call as ``POST /api/v1/orders`` (controls gate, audit
entry with the web caller's actor, IP and session, then the sealed execution path). A large order
is first put to a second approver, as ``POST /api/v1/approvals`` does; once approved, the trader
sends it from this page under their own session. Refusals are answers, shown with their reason code.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from orderguard.api.deps import Ctx, Permission
from orderguard.api.routes.approvals import open_large_order, vote_result
from orderguard.api.routes.orders import ticket_of
from orderguard.api.schemas import ApprovalOpen, OrderIn
from orderguard.app import AppContext
from orderguard.domain import AccountType, Decision, ReasonCode
from orderguard.web.form_input import FormError, form_values, parse_form
from orderguard.web.order_views import (
    CANCELLABLE,
    account_choices,
    held_orders,
    my_orders,
    new_order_id,
    venue_choices,
)
from orderguard.web.paging import Pages
from orderguard.web.render import CurrentWebUser, WebUser, allowed, allowed_quiet, page, require_csrf
from orderguard.wiring.order_desk import OrderOutcome

router = APIRouter(include_in_schema=False)
ORDER_ENTRY = Permission(
    "enter_orders", "OrderEntry", decided_by="cedar (traders); each order by the controls gate"
)
ORDERS_PER_PAGE = 25
ORDER_FIELDS = ("order_id", "account", "symbol", "side", "qty", "price", "venue")


@router.get("/orders", response_class=HTMLResponse, openapi_extra=ORDER_ENTRY.openapi())
def orders_page(
    request: Request,
    ctx: Ctx,
    user: CurrentWebUser,
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> HTMLResponse:
    refused = allowed(request, ctx, user, ORDER_ENTRY)
    if refused:
        return refused
    return _orders_view(request, ctx, user, page_number=page_number)


@router.post("/orders", response_class=HTMLResponse, openapi_extra=ORDER_ENTRY.openapi())
async def enter_order(request: Request, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """Enter the form's order: controls decide (and audit); a large one goes to a second approver."""
    refused = await _may_use(request, ctx, user)
    if refused:
        return refused
    values = form_values(await request.form(), ORDER_FIELDS, upper=("symbol",))
    try:
        body = parse_form(OrderIn, values)
    except FormError as exc:  # nothing is stored or audited for a form that is not an order yet
        keep = {**values, "order_id": ""}
        return await _rendered(request, ctx, user, status=422, errors=exc.errors, keep=keep)
    ticket = ticket_of(body, user.caller, ctx.clock())
    controls = ctx.controls.controls
    if controls.is_large(ticket):
        # Only an order whose one missing piece is the approval goes to the approvers; any other
        # refusal (account, desk, hours, SoD) is the gate's to give and to audit.
        check = await run_in_threadpool(controls.check, ticket)
        held = check.approval
        if check.decision.reason is ReasonCode.APPROVAL_REQUIRED and held is None:
            opened = await run_in_threadpool(open_large_order, ApprovalOpen(order=body), ctx, user.caller)
            return await _rendered(request, ctx, user, opened=opened)
        if check.decision.reason is ReasonCode.APPROVAL_REQUIRED and held and held.initiator == user.id:
            # The same form sent again: its request is open already; a second one would only confuse.
            opened = vote_result(Decision.allow("already waiting for approval"), held)
            return await _rendered(request, ctx, user, opened=opened)
    outcome = await ctx.orders.submit_async(ticket)
    return await _answer(request, ctx, user, outcome, values)


@router.post("/orders/{order_id}/send", response_class=HTMLResponse, openapi_extra=ORDER_ENTRY.openapi())
async def send_approved(request: Request, order_id: str, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """Send my large order exactly as its approvers saw it, with their approval request."""
    refused = await _may_use(request, ctx, user)
    if refused:
        return refused
    found = next((h for h in held_orders(ctx, user.id) if h.request.object_id == order_id), None)
    if found is None:
        return _not_found(request, ctx, user, f"no large order {order_id!r} of yours is waiting to be sent")
    if not found.ready:  # sending it now would only be refused, and its order id spent with it
        message = f"order {order_id} is {found.state}, not approved; nothing was sent"
        return page(request, ctx, user, "refused.html", 409, reason="APPROVAL_REQUIRED", message=message)
    held = found.request
    content = {k: held.content.get(k) for k in ORDER_FIELDS if k != "order_id"}
    body = OrderIn.model_validate({**content, "order_id": order_id, "approval_request_id": held.id})
    outcome = await ctx.orders.submit_async(ticket_of(body, user.caller, ctx.clock()))
    return await _answer(request, ctx, user, outcome, {})


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse, openapi_extra=ORDER_ENTRY.openapi())
async def cancel(request: Request, order_id: str, ctx: Ctx, user: CurrentWebUser) -> HTMLResponse:
    """Cancel an order through the order desk, which decides (Cedar on the order's facts) and audits."""
    refused = await _may_use(request, ctx, user)
    if refused:
        return refused
    if ctx.book.get(order_id) is None:
        return _not_found(request, ctx, user, f"no order {order_id!r} was entered here")
    caller = user.caller
    outcome = await run_in_threadpool(
        lambda: ctx.orders.cancel(order_id, user.id, ip=caller.ip, session_id=caller.session_id)
    )
    return await _rendered(request, ctx, user, status=200 if outcome.accepted else 403, cancelled=outcome)


async def _may_use(request: Request, ctx: AppContext, user: WebUser) -> HTMLResponse | None:
    """CSRF, then Cedar on the page; like the API's order routes, only a refusal is audited here
    (the gate and the desk record each order and cancel themselves)."""
    await require_csrf(request, user)
    if allowed_quiet(ctx, user, ORDER_ENTRY):
        return None
    return allowed(request, ctx, user, ORDER_ENTRY)


async def _answer(
    request: Request, ctx: AppContext, user: WebUser, outcome: OrderOutcome, entered: dict[str, str]
) -> HTMLResponse:
    """The desk's answer; a refused order's fields stay in the form (under a new id) to correct."""
    from orderguard.api.metrics import metrics_of

    metrics_of(ctx).count_order("accepted" if outcome.accepted else outcome.decision.reason.value)
    keep = {} if outcome.accepted else {**entered, "order_id": ""}
    booked = ctx.book.get(outcome.order_id)
    account = ctx.controls.controls.accounts.get(booked.ticket.account) if booked else None
    personal = account is not None and account.type is AccountType.PERSONAL
    return await _rendered(request, ctx, user, keep=keep, outcome=outcome, booked=booked, personal=personal)


async def _rendered(request: Request, ctx: AppContext, user: WebUser, **values: object) -> HTMLResponse:
    """The page for an async handler, built in the thread pool: it reads the approvals store, and
    the event loop also carries the API's order entry."""
    return await run_in_threadpool(partial(_orders_view, request, ctx, user, **values))  # type: ignore[arg-type]


def _not_found(request: Request, ctx: AppContext, user: WebUser, message: str) -> HTMLResponse:
    return page(request, ctx, user, "refused.html", 404, reason="NOT_FOUND", message=message)


def _orders_view(
    request: Request,
    ctx: AppContext,
    user: WebUser,
    *,
    page_number: int = 1,
    status: int = 200,
    keep: dict[str, str] | None = None,
    **answer: object,
) -> HTMLResponse:
    """The page: the answer to what was just sent (if anything), the order form (holding ``keep``,
    what was typed, when it is to be corrected), the held and the entered orders."""
    orders = my_orders(ctx, user.id)
    pages = Pages.of("/orders", {}, len(orders), page_number, ORDERS_PER_PAGE)
    form = dict(keep or {})
    form["order_id"] = form.get("order_id") or new_order_id()
    return page(
        request,
        ctx,
        user,
        "orders.html",
        status,
        form=form,
        accounts=account_choices(ctx, user.id),
        venues=venue_choices(ctx),
        held=held_orders(ctx, user.id),
        orders=pages.slice(orders),
        pages=pages,
        cancellable=CANCELLABLE,
        **answer,
    )
