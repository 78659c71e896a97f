"""What the Orders page shows a trader: the accounts and venues to choose from, their own orders,
and their large orders held for a second approver."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from orderguard.api.routes.approvals import mine
from orderguard.app import AppContext
from orderguard.approvals.model import ApprovalRequest, RequestStatus, SensitiveAction
from orderguard.domain import Account, AccountType, Venue
from orderguard.wiring.sinks import BookedOrder

# What the order desk can still cancel. It also takes an executed order, but a fully filled
# order has nothing left working, so the page offers no button for it.
CANCELLABLE = frozenset({"accepted", "partially executed"})
HELD_SHOWN = 20  # newest held large orders listed; older ones are in the approvals page


def new_order_id() -> str:
    """A fresh id for the next order form: sending the same form twice is refused as a replay
    (the desk reserves each id once) instead of entering the order twice."""
    return f"web-{secrets.token_hex(6)}"


def account_choices(ctx: AppContext, trader: str) -> list[Account]:
    """Accounts of the trader's desk and their own personal accounts (the gate decides either way)."""
    principal = ctx.controls.directory.get(trader)
    desk = principal.desk if principal is not None else None
    return sorted(
        (
            a
            for a in ctx.config.accounts().values()
            if (a.owner == trader if a.type is AccountType.PERSONAL else desk is not None and a.desk == desk)
        ),
        key=lambda a: (a.type is AccountType.PERSONAL, a.id),
    )


def venue_choices(ctx: AppContext) -> list[Venue]:
    """The venues on the allowlist as it stands now (changes to it are approved and audited)."""
    approved = ctx.controls.venues.approved()
    return [v for v in ctx.config.venue_list() if v.id in approved]


def my_orders(ctx: AppContext, trader: str) -> list[BookedOrder]:
    """The trader's orders entered through this process, newest first."""
    return sorted(
        (b for b in ctx.book.all() if b.ticket.actor == trader),
        key=lambda b: (-b.ticket.ts, b.ticket.order_id),
    )


@dataclass(frozen=True, slots=True)
class HeldOrder:
    """A large order asked for approval and not entered yet, with where its request stands."""

    request: ApprovalRequest
    state: str  # waiting / approved / rejected / expired

    @property
    def ready(self) -> bool:
        return self.state == "approved"


def held_orders(ctx: AppContext, trader: str) -> list[HeldOrder]:
    """The trader's large orders waiting for (or past) their approval, newest first."""
    now = ctx.clock()
    held = []
    for request in mine(ctx, trader):
        if request.action is not SensitiveAction.LARGE_ORDER or ctx.book.get(request.object_id) is not None:
            continue
        if request.status is RequestStatus.PENDING and request.expires_ns <= now:
            state = "expired"
        elif request.status is RequestStatus.PENDING:
            state = "approved" if request.quorum_met else "waiting"
        else:
            state = request.status.value
        held.append(HeldOrder(request, state))
        if len(held) == HELD_SHOWN:
            break
    return held
