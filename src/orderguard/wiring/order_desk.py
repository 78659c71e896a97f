"""Order entry for the interfaces: the controls gate, then (if it says go) the sealed execution path.

The gate audits its decision before anything executes; the connector audits its own verdict.
Order ids are reserved first, so a repeated id is refused instead of entered twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orderguard.approvals.model import SensitiveAction
from orderguard.domain import AccountType, AuditAction, AuditEntry, AuditSink, Decision, Event, ReasonCode
from orderguard.domain.alerts import Alert
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.stack import ControlsStack
from orderguard.wiring.execution_path import ExecutionPath
from orderguard.wiring.sinks import BookedOrder, OrderBook

if TYPE_CHECKING:
    from orderguard.cases.state import ResponseState


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    order_id: str
    accepted: bool
    decision: Decision
    audit_index: int
    executions: tuple[Event, ...] = ()
    alerts: tuple[Alert, ...] = ()


class OrderDesk:
    """Submit and cancel orders through the controls (and the execution path when wired)."""

    def __init__(
        self,
        controls: ControlsStack,
        audit: AuditSink,
        book: OrderBook,
        execution: ExecutionPath | None,
        *,
        clock: Callable[[], int] = time.time_ns,
        responses: ResponseState | None = None,
    ) -> None:
        self.clock = clock
        self.responses = responses
        self.controls = controls
        self.audit = audit
        self.book = book
        self.execution = execution

    def submit(self, ticket: OrderTicket) -> OrderOutcome:
        placeholder = BookedOrder(ticket, "pending", "", -1)
        if not self.book.put(placeholder):
            decision = Decision.deny(ReasonCode.REPLAYED, f"order id {ticket.order_id} was already entered")
            return OrderOutcome(ticket.order_id, False, decision, self._refuse(ticket, decision))
        if self.responses is not None:
            standing = self.responses.check_order(
                ticket.actor, symbol=ticket.symbol, account=ticket.account, venue=ticket.venue
            )
            if not standing.allowed:
                placeholder.status, placeholder.reason = "refused", standing.reason.value
                placeholder.audit_index = self._refuse(ticket, standing)
                return OrderOutcome(ticket.order_id, False, standing, placeholder.audit_index)
        request = None
        if ticket.notional > self.controls.config.controls.large_order_notional:
            # Remember the approvers before the gate spends the request.
            request = (
                self.controls.approvals.store.get(ticket.approval_request_id)
                if ticket.approval_request_id
                else self.controls.approvals.store.by_object(SensitiveAction.LARGE_ORDER, ticket.order_id)
            )
        result = self.controls.gate.submit(ticket)
        placeholder.audit_index = result.audit_index
        placeholder.reason = result.decision.reason.value
        if not result.go:
            placeholder.status = "refused"
            return OrderOutcome(
                ticket.order_id, False, result.decision, result.audit_index, alerts=result.alerts
            )
        placeholder.status = "accepted"
        executions: tuple[Event, ...] = ()
        account = self.controls.controls.accounts.get(ticket.account)
        # A personal trade is executed at the employee's own broker; pre-clearance was its control.
        if self.execution is not None and account is not None and account.type is not AccountType.PERSONAL:
            approvers = sorted(request.current_approvers()) if request is not None else []
            connector = self.execution.execute(ticket, result.decision, approvers)
            if connector.accepted:
                executions = connector.executions
                if sum(e.qty or 0.0 for e in executions) >= ticket.qty:
                    placeholder.status = "executed"
                    # Fully filled: the pre-clearance blackout on the symbol ends a window from now.
                    last_fill = max((e.ts for e in executions), default=ticket.ts)
                    self.controls.preclearance.order_done(ticket.order_id, last_fill)
                else:
                    placeholder.status = "partially executed"
            else:
                placeholder.reason = connector.decision.reason.value
        return OrderOutcome(ticket.order_id, True, result.decision, result.audit_index, executions)

    def cancel(
        self, order_id: str, actor: str, *, ip: str | None = None, session_id: str | None = None
    ) -> OrderOutcome:
        """Cancel a working order: authorized like the order itself (Cedar ``cancel_order``), audited."""
        booked = self.book.get(order_id)
        now = self.clock()
        if booked is None:
            decision = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no order {order_id!r} entered here")
        elif booked.status not in ("accepted", "partially executed", "executed"):
            decision = Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"order {order_id} is {booked.status}; nothing to cancel"
            )
        else:
            decision = self._may_cancel(booked.ticket, actor, now)
        index = self.audit.append(
            AuditEntry(
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
        )
        if decision.allowed and booked is not None:
            booked.status = "cancelled"
            self.controls.preclearance.order_done(order_id, now)
        return OrderOutcome(order_id, decision.allowed, decision, index)

    def _refuse(self, ticket: OrderTicket, decision: Decision) -> int:
        """Audit a refusal made before the gate (duplicate id, suspension, blocked pattern)."""
        return self.audit.append(
            AuditEntry(
                kind="order",
                action=AuditAction.REFUSED,
                object_id=ticket.order_id,
                actor=ticket.actor,
                ts=ticket.ts,
                after=ticket.record(),
                ip=ticket.ip,
                session_id=ticket.session_id,
                decision="deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )

    def _may_cancel(self, ticket: OrderTicket, actor: str, now: int) -> Decision:
        controls = self.controls.controls
        account = controls.accounts.get(ticket.account)
        if account is None or controls.directory.get(actor) is None:
            return Decision.deny(ReasonCode.NOT_AUTHORIZED, f"unknown principal {actor!r}")
        authz = controls.authorize_on_order(actor, "cancel_order", account, ticket, now)
        if not authz.allowed:
            return Decision.deny(authz.reason, authz.message, authz.policy_ids)
        return controls.directory.sod_decision(actor) or Decision.allow(authz.message, authz.policy_ids)
