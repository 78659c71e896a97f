"""Whether an order may be cancelled, and the audit entry that records the attempt either way.

Only someone the policy lets act on the order (Cedar ``cancel_order``, then separation of duties)
may cancel it, and only while it is working (accepted or partially executed): a fully executed,
refused or already cancelled order has nothing left to cancel. Authorization is decided first, so
that someone who may not act on the order is not told its status.
"""

from __future__ import annotations

from orderguard.domain import AuditAction, AuditEntry, Decision, ReasonCode
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import ControlsStack
from orderguard.wiring.sinks import BookedOrder

WORKING = ("accepted", "partially executed")  # statuses with something left to cancel


def cancel_decision(
    controls: ControlsStack, order_id: str, booked: BookedOrder | None, actor: str, now: int
) -> Decision:
    """Allow or refuse ``actor``'s cancel of ``order_id`` (``booked``: the order, if it was entered here)."""
    if booked is None:
        return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no order {order_id!r} entered here")
    decision = _may_cancel(controls, booked.ticket, actor, now)  # first: an outsider learns no status
    if decision.allowed and booked.status == "executing":
        return Decision.deny(
            ReasonCode.NOT_AUTHORIZED,
            f"order {order_id} is being executed at its venue; cancel what is left once its fills are in "
            f"(GET /api/v1/orders/{order_id})",
        )
    if decision.allowed and booked.status not in WORKING:
        return Decision.deny(
            ReasonCode.NOT_AUTHORIZED, f"order {order_id} is {booked.status}; nothing to cancel"
        )
    return decision


def cancel_entry(
    order_id: str, actor: str, now: int, decision: Decision, *, ip: str | None, session_id: str | None
) -> AuditEntry:
    """The audit entry of a cancel: ``cancelled`` if it was allowed, ``refused`` if not."""
    return AuditEntry(
        kind="order",
        action=AuditAction.CANCELLED if decision.allowed else AuditAction.REFUSED,
        object_id=order_id,
        actor=actor,
        ts=now,
        ip=ip,
        session_id=session_id,
        decision="allow" if decision.allowed else "deny",
        reason_code=decision.reason.value,
        policy_ids=decision.policy_ids,
    )


def _may_cancel(stack: ControlsStack, ticket: OrderTicket, actor: str, now: int) -> Decision:
    controls = stack.controls
    account = controls.accounts.get(ticket.account)
    if account is None or controls.directory.get(actor) is None:
        return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"unknown principal {actor!r}")
    authz = controls.authorize_on_order(actor, "cancel_order", account, ticket, now)
    if not authz.allowed:
        return Decision.deny(authz.reason, authz.message, authz.policy_ids)
    return controls.directory.sod_decision(actor) or Decision.allow(authz.message, authz.policy_ids)
