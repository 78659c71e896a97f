"""Break-glass: let a pending request execute without its quorum, in an emergency, visibly.

A reason is mandatory, the grant lasts ``break_glass_ttl_seconds``, security and every eligible
approver who was skipped are notified at once (and a ``break_glass`` alert is raised when an alert
sink is wired), and a review item stays open until a second person (compliance or security, never
the invoker) closes it.

Only actions where waiting can cost more than acting break the glass
(``approvals.model.BREAK_GLASS_ACTIONS``: a large order, a deploy, a key operation). Changes to
who may do what (role grants, venues, routes), withdrawals, audit erasure and suspension lifts
always need their quorum: bypassing it would let one insider grant a colluder a role, open a
route to an unvetted venue, or erase evidence alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Protocol

from orderguard.approvals.engine import NS, ApprovalEngine
from orderguard.approvals.model import BREAK_GLASS_ACTIONS, NOWHERE, BreakGlassGrant, Origin
from orderguard.domain import AuditAction, Decision, ReasonCode, Role
from orderguard.domain.alerts import Alert

MIN_REASON_CHARS: Final = 10
REVIEWER_ROLES: Final = frozenset({Role.SECURITY, Role.COMPLIANCE})


@dataclass(frozen=True, slots=True)
class Notification:
    """A message that must reach a person now (by whatever channel the firm wires in)."""

    recipient: str
    subject: str
    body: str
    request_id: str
    ts: int


class NotificationSink(Protocol):
    def notify(self, notification: Notification) -> None: ...


class AlertSink(Protocol):
    """Where break-glass alerts go (the cases stage in the app)."""

    def raise_alert(self, alert: Alert) -> None: ...


class BreakGlass:
    """Emergency bypass of approval quorums, with notification and mandatory second-person review."""

    def __init__(
        self,
        engine: ApprovalEngine,
        notifications: NotificationSink,
        ttl_seconds: float,
        *,
        alerts: AlertSink | None = None,
    ) -> None:
        self.engine = engine
        self.notifications = notifications
        self.alerts = alerts
        self.ttl_ns = int(ttl_seconds * NS)

    def invoke(
        self, request_id: str, invoker: str, reason: str, now: int, *, origin: Origin = NOWHERE
    ) -> Decision:
        """Break the glass on ``request_id``; refused without a real reason (BREAK_GLASS_NO_REASON)."""
        engine = self.engine
        request = engine.store.get(request_id)
        refusal: Decision | None = None
        if len(reason.strip()) < MIN_REASON_CHARS:
            refusal = Decision.deny(
                ReasonCode.BREAK_GLASS_NO_REASON,
                f"break-glass needs a reason (at least {MIN_REASON_CHARS} chars) saying why it cannot wait",
            )
        elif request is None or invoker != request.initiator:
            refusal = Decision.deny(
                ReasonCode.NOT_AUTHORIZED, f"only the initiator may break glass on {request_id}"
            )
        elif invoker in engine.directory.suspended:
            refusal = Decision.deny(ReasonCode.PRINCIPAL_SUSPENDED, f"{invoker} is suspended")
        elif request.action not in BREAK_GLASS_ACTIONS:
            allowed = ", ".join(sorted(a.value for a in BREAK_GLASS_ACTIONS))
            refusal = Decision.deny(
                ReasonCode.NOT_AUTHORIZED,
                f"break-glass does not apply to {request.action.value} ({request_id}): it needs its "
                f"quorum; break-glass covers only {allowed}",
            )
        else:
            refusal = engine.closed_refusal(request, request_id, now)
        if refusal is not None or request is None:
            return engine.refuse(request_id, invoker, now, refusal, origin=origin)
        skipped = {
            p.id
            for p in engine.directory.holders(request.eligible_roles)
            if p.id not in request.current_approvers() and p.id != invoker
        }
        security = {p.id for p in engine.directory.holders({Role.SECURITY}) if p.id != invoker}
        recipients = tuple(sorted(skipped | security))
        grant = BreakGlassGrant(request_id, invoker, reason.strip(), now, now + self.ttl_ns, recipients)
        updated = replace(request, break_glass=grant)
        decision = Decision.allow(
            f"break-glass on {request_id} by {invoker} until +{self.ttl_ns // NS}s: {reason}"
        )
        engine.record(
            request_id,
            invoker,
            now,
            AuditAction.BREAK_GLASS,
            decision,
            before=request,
            after=updated,
            origin=origin,
        )
        engine.store.save(updated)
        for recipient in recipients:
            self.notifications.notify(
                Notification(
                    recipient,
                    f"BREAK-GLASS: {invoker} bypassed approval of {request.action.value} {request.object_id}",
                    f"reason: {grant.reason}; review of {request_id} open until a second person closes it",
                    request_id,
                    now,
                )
            )
        if self.alerts is not None:
            self.alerts.raise_alert(
                Alert.build(
                    rule="break_glass",
                    severity="high",
                    actor=invoker,
                    symbol=None,
                    ts=now,
                    event_ids=(request_id,),
                    explanation=(
                        f"{invoker} broke the glass on {request.action.value} {request.object_id}: "
                        f"{grant.reason}; review open until a second person closes it"
                    ),
                    action="alert",
                    scope="controls",
                )
            )
        return decision

    def open_reviews(self) -> list[BreakGlassGrant]:
        """Break-glass grants whose review is still open."""
        return [
            r.break_glass
            for r in self.engine.store.requests()
            if r.break_glass is not None and r.break_glass.review_open
        ]

    def close_review(
        self, request_id: str, reviewer: str, note: str, now: int, *, origin: Origin = NOWHERE
    ) -> Decision:
        """Close a break-glass review; the reviewer is a second person from compliance or security."""
        engine = self.engine
        request = engine.store.get(request_id)
        grant = None if request is None else request.break_glass
        principal = engine.directory.get(reviewer)
        refusal: Decision | None = None
        if request is None or grant is None or not grant.review_open:
            refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"no open break-glass review on {request_id}")
        elif reviewer == grant.invoker:
            refusal = Decision.deny(
                ReasonCode.SOD_SELF_APPROVAL, f"{reviewer} broke the glass and may not review it"
            )
        elif principal is None or not principal.roles & REVIEWER_ROLES:
            refusal = Decision.deny(
                ReasonCode.APPROVAL_NOT_ELIGIBLE, f"{reviewer} is not compliance or security"
            )
        elif not note.strip():
            refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, "closing a break-glass review needs a note")
        if refusal is not None or request is None or grant is None:
            return engine.refuse(request_id, reviewer, now, refusal, origin=origin)
        closed = replace(grant, review_closed_by=reviewer, review_closed_ns=now, review_note=note.strip())
        updated = replace(request, break_glass=closed)
        decision = Decision.allow(f"break-glass review on {request_id} closed by {reviewer}: {note}")
        engine.record(
            request_id,
            reviewer,
            now,
            AuditAction.CASE_UPDATED,
            decision,
            before=request,
            after=updated,
            origin=origin,
        )
        engine.store.save(updated)
        return decision
