"""Order entry, view and cancel: each decided by the controls (Cedar with the order's facts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from orderguard.api.deps import Allowed, Caller, Ctx, Permission
from orderguard.api.errors import ERROR_RESPONSES, ApiError, ErrorResponse, Responses
from orderguard.api.metrics import metrics_of
from orderguard.api.schemas import DecisionOut, OrderIn, OrderOut, OrderResult
from orderguard.app import AppContext
from orderguard.gateway.orders import OrderTicket

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
# The gate records each order decision with actor, IP and session, so no extra request entry.
SUBMIT = Permission(
    "submit_order",
    "Order",
    decided_by="controls gate (Cedar with the order's facts)",
    with_order_facts=True,
    audit=False,
)
CANCEL = Permission(
    "cancel_order",
    "Order",
    decided_by="order desk (Cedar with the order's facts)",
    with_order_facts=True,
    audit=False,
)
VIEW = Permission(
    "view_order",
    "Order",
    decided_by="need-to-know views (Cedar with the order's facts)",
    with_order_facts=True,
    audit=False,
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "no such order"}}


def ticket_of(body: OrderIn, caller: Caller, ts: int) -> OrderTicket:
    return OrderTicket(
        order_id=body.order_id,
        actor=caller.id,
        account=body.account,
        symbol=body.symbol,
        side=body.side,
        qty=body.qty,
        price=body.price,
        venue=body.venue,
        ts=ts,
        approval_request_id=body.approval_request_id,
        ip=caller.ip,
        session_id=caller.session_id,
    )


@router.post("", response_model=OrderResult, responses=ERROR_RESPONSES, openapi_extra=SUBMIT.openapi())
async def submit_order(
    body: OrderIn, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(SUBMIT))]
) -> Response:
    """Enter an order: controls decide and audit; if accepted it is sealed and sent to the venue.

    A refusal is a normal answer (``accepted: false`` with the reason code), not an HTTP error.
    The answer comes once the decision is durable in the audit log (awaited, not blocking).
    """
    return await enter_order(ctx, body, caller)


async def enter_order(ctx: AppContext, body: OrderIn, caller: Caller) -> Response:
    """The order route's work once the caller and the body are known (also ``api.order_lane``'s)."""
    outcome = await ctx.orders.submit_async(ticket_of(body, caller, ctx.clock()))
    metrics_of(ctx).count_order("accepted" if outcome.accepted else outcome.decision.reason.value)
    result = OrderResult(
        order_id=outcome.order_id,
        accepted=outcome.accepted,
        decision=DecisionOut.of(outcome.decision),
        audit_index=outcome.audit_index,
        executions=len(outcome.executions),
        alerts=[a.alert_id for a in outcome.alerts],
    )
    # Built from our own types, so it is valid: answered as is rather than validated again by
    # FastAPI against the response model (the schema in the OpenAPI document stays the same).
    return Response(result.model_dump_json(), media_type="application/json")


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=VIEW.openapi(),
)
def view_order(order_id: str, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(VIEW))]) -> OrderOut:
    """Read an order if need-to-know allows it (desk, role); every view is audited and becomes an event."""
    booked = ctx.orders.book.get(order_id)
    if booked is None:
        raise ApiError(404, "NO_SUCH_ORDER", f"no order {order_id!r} was entered here")
    decision, _ = ctx.controls.views.view(
        caller.id, booked.ticket, ctx.clock(), ip=caller.ip, session_id=caller.session_id
    )
    if not decision.allowed:
        raise ApiError(403, decision.reason.value, decision.message)
    t = booked.ticket
    return OrderOut(
        order_id=t.order_id,
        actor=t.actor,
        account=t.account,
        symbol=t.symbol,
        side=t.side.value,
        qty=t.qty,
        price=t.price,
        venue=t.venue,
        status=booked.status,
        reason_code=booked.reason,
    )


@router.post(
    "/{order_id}/cancel",
    response_model=OrderResult,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    openapi_extra=CANCEL.openapi(),
)
def cancel_order(order_id: str, ctx: Ctx, caller: Annotated[Caller, Depends(Allowed(CANCEL))]) -> OrderResult:
    """Cancel a working order (authorized like entering it); refusals come back with their reason code."""
    if ctx.orders.book.get(order_id) is None:
        raise ApiError(404, "NO_SUCH_ORDER", f"no order {order_id!r} was entered here")
    outcome = ctx.orders.cancel(order_id, caller.id, ip=caller.ip, session_id=caller.session_id)
    return OrderResult(
        order_id=order_id,
        accepted=outcome.accepted,
        decision=DecisionOut.of(outcome.decision),
        audit_index=outcome.audit_index,
        executions=0,
        alerts=[],
    )
