"""The control check for one order: authorize -> SoD -> approval state -> venue -> pre-clearance.

Everything is in memory and side-effect free, except that a personal trade found covered holds its
clearance for this order (a clearance is spent once, even under concurrent orders). ``ControlsGate``
writes the decision to the audit log and only then lets the order go. Cedar sees the order as
discrete facts (desk, account type, venue approved, large, quorum met) so its decisions memoise well
(see policy/authorizer.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import ApprovalRequest, SensitiveAction, canonical_digest
from orderguard.config import FirmConfig
from orderguard.domain import Account, AccountType, Decision, ReasonCode, Side
from orderguard.gateway.control_notional import ControlNotional, ReferenceRule
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.preclearance import PreClearance
from orderguard.gateway.reference_prices import NS_PER_SECOND, ReferencePrices, ReferenceStore
from orderguard.gateway.venues import VenueAllowlist
from orderguard.policy.authorizer import AuthzDecision, CedarAuthorizer
from orderguard.policy.context import BusinessHoursClock, order_context
from orderguard.policy.directory import RoleDirectory

NOTIONAL_KEYS = (
    "control_notional",
    "control_price",
    "reference_price",
    "reference_source",
    "reference_fresh",
)
_REMEMBERED = 1024  # orders whose control notional is remembered (one order asks up to three times)
_LATER_STEPS = frozenset({ReasonCode.APPROVAL_REQUIRED, ReasonCode.VENUE_NOT_APPROVED})


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The decision for one order, the account it concerns and the approval request it would spend."""

    decision: Decision
    account: Account | None = None
    approval: ApprovalRequest | None = None
    notional: ControlNotional | None = None


def approved_content(order: OrderTicket, request: ApprovalRequest | None) -> dict[str, object]:
    """The content ``request`` must have been approved for: the order's fields, plus the notional
    facts the server recorded when the request was opened (they are shown, not re-derived: a later
    fill moving the reference does not make an approval stale)."""
    content = dict(order.approval_content())
    if request is not None:
        content.update({k: request.content[k] for k in NOTIONAL_KEYS if k in request.content})
    return content


class OrderControls:
    """Runs every pre-trade control for an order and returns one decision."""

    def __init__(
        self,
        config: FirmConfig,
        *,
        directory: RoleDirectory,
        authorizer: CedarAuthorizer,
        approvals: ApprovalEngine,
        venues: VenueAllowlist,
        preclearance: PreClearance,
        reference_store: ReferenceStore | None = None,
    ) -> None:
        self.large_notional = config.controls.large_order_notional
        rule = ReferenceRule(
            int(config.controls.reference_max_age_seconds * NS_PER_SECOND),
            config.controls.unpriced_sell_max_qty,
        )
        self.reference_prices = ReferencePrices(config.reference_prices, store=reference_store, rule=rule)
        # The order desk, the web page and the check each ask for an order's notional: it is worked
        # out once per order (the same ticket object), so all three see the same answer.
        self._notionals: dict[str, tuple[OrderTicket, ControlNotional]] = {}
        self.accounts = config.accounts()
        self.directory = directory
        self.authorizer = authorizer
        self.approvals = approvals
        self.venues = venues
        self.preclearance = preclearance
        self.business_hours = BusinessHoursClock(config.business_hours)

    def check(self, order: OrderTicket, action: str = "submit_order") -> CheckResult:
        """Decide ``order``; the first failing step in pipeline order gives the reason code."""
        account = self.accounts.get(order.account)
        if self.directory.get(order.actor) is None or account is None:
            return CheckResult(
                Decision.deny(
                    ReasonCode.NOT_AUTHORIZED,
                    f"unknown principal {order.actor!r} or account {order.account!r}",
                )
            )
        basis = self.notional_of(order)
        large = self._large(basis)
        approval: Decision | None = None
        request: ApprovalRequest | None = None
        if large:
            store = self.approvals.store
            request = (
                store.get(order.approval_request_id)
                if order.approval_request_id
                else store.by_object(SensitiveAction.LARGE_ORDER, order.order_id)
            )
            digest = canonical_digest(
                SensitiveAction.LARGE_ORDER, order.order_id, approved_content(order, request)
            )
            approval = self.approvals.readiness(
                request, SensitiveAction.LARGE_ORDER, order.order_id, digest, order.ts
            )
        venue_approved = order.venue in self.venues
        context = order_context(
            account,
            venue=order.venue,
            venue_approved=venue_approved,
            business_hours=self.business_hours(order.ts),
            large=large,
            quorum_met=approval is not None and approval.allowed,
        )
        authz = self.authorizer.authorize(order.actor, action, "Order", context)
        decision = self._decide(order, account, authz, approval)
        note = basis.note(order)
        if note:
            decision = replace(decision, message=f"{decision.message}; {note}")
        return CheckResult(decision, account, request, basis)

    def notional_of(self, order: OrderTicket) -> ControlNotional:
        """The notional the large-order threshold uses (see gateway/reference_prices.py), worked out
        once per order: asked again for the same ticket, the first answer is returned."""
        remembered = self._notionals.get(order.order_id)
        if remembered is not None and remembered[0] is order:
            return remembered[1]
        basis = self.reference_prices.assess(order)
        notionals = self._notionals
        if len(notionals) >= _REMEMBERED:
            # Dropped all at once (popping the oldest one by one makes a dict's iteration crawl over
            # deleted slots); an order in flight then works its notional out again.
            notionals.clear()
        notionals[order.order_id] = (order, basis)
        return basis

    def is_large(self, order: OrderTicket) -> bool:
        """True if ``order`` needs large-order approval: its notional on the price the trader does not
        choose is above the threshold, or it is a sell too big to go without a fresh reference."""
        return self._large(self.notional_of(order))

    def _large(self, basis: ControlNotional) -> bool:
        return basis.unpriced_large or basis.notional > self.large_notional

    def approval_content(self, order: OrderTicket) -> dict[str, object]:
        """What a new large-order request carries: the order and, for a SELL, the notional and the
        reference price it rests on, computed here, never taken from the trader (approvers see it)."""
        content = dict(order.approval_content())
        if order.side is Side.SELL:
            content.update(self.notional_of(order).record())
        return content

    def authorize_on_order(
        self, actor: str, action: str, account: Account, order: OrderTicket, now: int
    ) -> AuthzDecision:
        """Cedar on an action upon an order already placed (view, cancel): no size or quorum in play."""
        context = order_context(
            account,
            venue=order.venue,
            venue_approved=order.venue in self.venues,
            business_hours=self.business_hours(now),
            large=False,
            quorum_met=False,
        )
        return self.authorizer.authorize(actor, action, "Order", context)

    def _decide(  # noqa: PLR0911 - one return per pipeline step, in pipeline order
        self, order: OrderTicket, account: Account, authz: AuthzDecision, approval: Decision | None
    ) -> Decision:
        ids = authz.policy_ids
        if not authz.allowed and authz.reason not in _LATER_STEPS:
            return Decision.deny(authz.reason, authz.message, ids)
        sod = self.directory.sod_decision(order.actor)
        if sod is not None:
            return sod
        if approval is not None and not approval.allowed:
            return Decision.deny(approval.reason, approval.message, ids)
        if not authz.allowed:
            return Decision.deny(authz.reason, authz.message, ids)
        if account.type is AccountType.PERSONAL:
            cleared = self.preclearance.cleared(
                order.actor,
                order.account,
                symbol=order.symbol,
                side=order.side,
                qty=order.qty,
                now=order.ts,
                hold_for=order.order_id,  # taken now: a concurrent order on the same clearance is refused
            )
            if not cleared.allowed:
                return Decision.deny(cleared.reason, cleared.message, ids + cleared.policy_ids)
            ids += cleared.policy_ids
        if approval is not None:
            return Decision.allow(f"{authz.message}; {approval.message}", ids)
        return Decision.allow(authz.message, ids)
