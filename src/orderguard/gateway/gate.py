"""The controls gate: decide an order, write the decision to the audit log, then (and only then) go.

``submit`` returns only after ``AuditSink.append`` has returned (durable). On "go" it spends the
order's approval request, records the order for pre-clearance blackouts and, for a personal
trade, spends the clearance. An order to an unapproved venue is blocked and alerted.

The steps are also callable one by one (``decide``, then the audit append, then ``apply``), so
that an asynchronous caller (the HTTP order route) can await the durable append on its event
loop instead of parking a thread; ``submit`` is those steps in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from orderguard.config import FirmConfig
from orderguard.domain import AccountType, AuditAction, AuditEntry, AuditSink, Decision, ReasonCode, Side
from orderguard.domain.alerts import Alert
from orderguard.gateway.checks import CheckResult, OrderControls
from orderguard.gateway.orders import OrderTicket


class AlertSink(Protocol):
    """Where a control's alerts go (the cases stage, a queue, a list in tests)."""

    def raise_alert(self, alert: Alert) -> None: ...


@dataclass(frozen=True, slots=True)
class GateResult:
    """The decision, the audit index it was recorded at and any alerts raised."""

    decision: Decision
    audit_index: int
    alerts: tuple[Alert, ...] = ()

    @property
    def go(self) -> bool:
        return self.decision.allowed


@dataclass(frozen=True, slots=True)
class GateDecision:
    """An order decided but not yet recorded: the check's result and the audit entry to append."""

    check: CheckResult
    entry: AuditEntry

    @property
    def decision(self) -> Decision:
        return self.check.decision

    @property
    def books_client_order(self) -> bool:
        """True if applying it only books a client order for blackouts (no approval, no clearance).

        Those effects are in memory plus one blackout-book row, which a caller may write beside
        the audit entry instead of after it.
        """
        account = self.check.account
        return (
            self.check.decision.allowed
            and self.check.approval is None
            and account is not None
            and account.type is not AccountType.PERSONAL
        )

    @property
    def has_effects(self) -> bool:
        """False for a refusal that needs nothing applied (no route alert)."""
        decision = self.check.decision
        return decision.allowed or decision.reason is ReasonCode.VENUE_NOT_APPROVED


class ControlsGate:
    """Order intake in front of execution: controls, then the audit log, then go / no go."""

    def __init__(
        self, controls: OrderControls, audit: AuditSink, config: FirmConfig, alerts: AlertSink | None = None
    ):
        self.controls = controls
        self.audit = audit
        self.alerts = alerts
        self.route_rule = config.detectors.unusual_route

    def submit(self, order: OrderTicket, action: str = "submit_order") -> GateResult:
        """Decide, audit, then apply the decision's effects; the caller executes only if ``go``."""
        decided = self.decide(order, action)
        try:
            index = self.audit.append(decided.entry)
        except BaseException:
            self.controls.preclearance.release(order.order_id)  # not recorded, so it did not go
            raise
        return GateResult(decided.decision, index, self.apply(order, decided))

    def decide(self, order: OrderTicket, action: str = "submit_order") -> GateDecision:
        """The decision and the audit entry that records it; in memory only, nothing is applied yet
        (a personal trade's clearance is held for this order; ``apply`` spends it)."""
        result = self.controls.check(order, action)
        decision = result.decision
        after = order.record()
        if result.notional is not None and order.side is Side.SELL:
            after["notional_basis"] = result.notional.record()  # the price the threshold used, on record
        request = result.approval
        if request is not None:
            # Creator and approvers are on record before the order can execute.
            grant = request.break_glass
            after["approval"] = {
                "request_id": request.id,
                "initiator": request.initiator,
                "approvers": sorted(request.current_approvers()),
                "quorum": request.quorum,
                "break_glass_by": None if grant is None else grant.invoker,
            }
        entry = AuditEntry(
            kind="order",
            action=(AuditAction.CREATED if action == "submit_order" else AuditAction.MODIFIED)
            if decision.allowed
            else AuditAction.REFUSED,
            object_id=order.order_id,
            actor=order.actor,
            ts=order.ts,
            after=after,
            ip=order.ip,
            session_id=order.session_id,
            decision="allow" if decision.allowed else "deny",
            reason_code=decision.reason.value,
            policy_ids=decision.policy_ids,
        )
        return GateDecision(result, entry)

    def apply(self, order: OrderTicket, decided: GateDecision) -> tuple[Alert, ...]:
        """The decision's effects, once its entry is durable: spend approvals and clearances, book
        the order for blackouts, or alert a blocked route. Returns the alerts raised."""
        decision = decided.decision
        if decision.allowed:
            self._went(order, decided.check)
        elif decision.reason is ReasonCode.VENUE_NOT_APPROVED:
            return (self._route_alert(order, decision),)
        return ()

    def _went(self, order: OrderTicket, result: CheckResult) -> None:
        controls = self.controls
        if result.approval is not None:
            controls.approvals.consume(result.approval.id)
        if result.account is not None and result.account.type is AccountType.PERSONAL:
            controls.preclearance.spend(
                order.actor, order.account, order.symbol, order.side, order.ts, order_id=order.order_id
            )
        elif result.account is not None:
            controls.preclearance.client_order(order.order_id, order.symbol, result.account.desk, order.ts)

    def _route_alert(self, order: OrderTicket, decision: Decision) -> Alert:
        alert = Alert.build(
            rule="unusual_route",
            severity=self.route_rule.severity,
            actor=order.actor,
            symbol=order.symbol,
            ts=order.ts,
            event_ids=(order.order_id,),
            explanation=f"{order.actor} routed {order.order_id} to unapproved venue {order.venue}; blocked",
            action=self.route_rule.action,
            scope="controls",
        )
        self.audit.append(
            AuditEntry(
                kind="alert",
                action=AuditAction.ALERTED,
                object_id=order.order_id,
                actor=order.actor,
                ts=order.ts,
                after={"rule": alert.rule, "venue": order.venue, "explanation": alert.explanation},
                decision="deny",
                reason_code=decision.reason.value,
                policy_ids=decision.policy_ids,
            )
        )
        if self.alerts is not None:
            self.alerts.raise_alert(alert)
        return alert
