"""Routing: a rule's action says which queues an alert goes to and which responses start at once.

An action is one token or several joined by ``_and_`` (``block_and_alert``). Tokens:
``alert`` and ``alert_compliance`` (compliance queue), ``alert_security`` (security queue),
``block`` (both queues + block the pattern), ``suspend`` (both queues + suspend the actor),
``hold`` (compliance queue + legal hold). An unknown token is never dropped: the alert goes
to the compliance queue and ``Route.unknown`` names the token so someone can fix the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orderguard.cases.model import Queue, ResponseKind

_TOKENS: Final[dict[str, tuple[tuple[Queue, ...], tuple[ResponseKind, ...]]]] = {
    "alert": ((Queue.COMPLIANCE,), ()),
    "alert_compliance": ((Queue.COMPLIANCE,), ()),
    "alert_security": ((Queue.SECURITY,), ()),
    "block": ((Queue.COMPLIANCE, Queue.SECURITY), (ResponseKind.BLOCK,)),
    "suspend": ((Queue.COMPLIANCE, Queue.SECURITY), (ResponseKind.SUSPEND,)),
    "hold": ((Queue.COMPLIANCE,), (ResponseKind.LEGAL_HOLD,)),
}


@dataclass(frozen=True, slots=True)
class Route:
    """Where an alert goes and what happens automatically."""

    queues: tuple[Queue, ...]
    responses: tuple[ResponseKind, ...]
    unknown: tuple[str, ...] = ()


def route(action: str) -> Route:
    """The route for a rule action such as ``alert_security`` or ``block_and_alert``."""
    queues: list[Queue] = []
    responses: list[ResponseKind] = []
    unknown: list[str] = []
    for token in action.strip().lower().split("_and_"):
        found = _TOKENS.get(token)
        if found is None:
            unknown.append(token)
            found = ((Queue.COMPLIANCE,), ())
        queues += [q for q in found[0] if q not in queues]
        responses += [r for r in found[1] if r not in responses]
    order = list(Queue)
    return Route(tuple(sorted(queues, key=order.index)), tuple(responses), tuple(unknown))
