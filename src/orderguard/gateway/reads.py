"""Need-to-know on reads: viewing a client order is authorized by desk and role, and every view
is emitted as an ``order_view`` event (it feeds the after-hours and query-volume detectors)."""

from __future__ import annotations

import secrets
from typing import Protocol

from orderguard.domain import AuditAction, AuditEntry, AuditSink, Decision, Event, EventKind, ReasonCode
from orderguard.gateway.checks import OrderControls
from orderguard.gateway.orders import OrderTicket


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class OrderViews:
    """Authorize and record order reads."""

    def __init__(self, controls: OrderControls, audit: AuditSink, events: EventSink) -> None:
        self.controls = controls
        self.audit = audit
        self.events = events

    def view(
        self,
        viewer: str,
        order: OrderTicket,
        now: int,
        *,
        ip: str | None = None,
        session_id: str | None = None,
    ) -> tuple[Decision, Event | None]:
        """May ``viewer`` read ``order``? Audited either way; an allowed view emits an order_view event."""
        controls = self.controls
        account = controls.accounts.get(order.account)
        if account is None or controls.directory.get(viewer) is None:
            decision = Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"unknown viewer {viewer!r} or account {order.account!r}"
            )
        else:
            authz = controls.authorize_on_order(viewer, "view_order", account, order, now)
            decision = (
                Decision.allow(authz.message, authz.policy_ids)
                if authz.allowed
                else Decision.deny(authz.reason, authz.message, authz.policy_ids)
            )
        self.audit.append(
            AuditEntry(
                kind="order",
                action=AuditAction.VIEWED if decision.allowed else AuditAction.REFUSED,
                object_id=order.order_id,
                actor=viewer,
                ts=now,
                ip=ip,
                session_id=session_id,
                decision="allow" if decision.allowed else "deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )
        if not decision.allowed:
            return decision, None
        event = Event(
            event_id=f"view-{secrets.token_hex(8)}",
            ts=now,
            kind=EventKind.ORDER_VIEW,
            actor=viewer,
            account=order.account,
            symbol=order.symbol,
            order_id=order.order_id,
            records=1,
            ip=ip,
            session_id=session_id,
        )
        self.events.emit(event)
        controls.preclearance.order_viewed(viewer, order.order_id, now)
        return decision, event
