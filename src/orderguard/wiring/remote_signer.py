"""The execution path's side of the desk signer process: have a batch signed, or refuse it, audited.

The signer refuses an intent its own policy does not allow (``SIGNER_LIMIT``, ``NOT_AUTHORIZED``,
...); if it is gone or answers garbage, every order of the batch is refused with
``SIGNER_UNAVAILABLE``. Either way the refusal is in the audit log (one commit) before the caller
hears of it, and nothing of a refused order reaches the connector, let alone a venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from orderguard.domain import Decision, ReasonCode
from orderguard.execution.connector import ConnectorResult
from orderguard.execution.envelope import SignedOrder
from orderguard.execution.intent import OrderIntent
from orderguard.execution.signer_process import SignerProcess, SignerUnavailableError
from orderguard.wiring.remote_connector import PATH_ACTOR, AppendMany, audit_refusals

SIGNER_ACTOR: Final = "service:desk-signer"  # whose refusals the execution path logs for the signer


def sign_remote(
    signer: SignerProcess, items: Sequence[tuple[int, OrderIntent]], append_many: AppendMany
) -> tuple[dict[int, SignedOrder], dict[int, ConnectorResult]]:
    """The signed orders by position, and the audited refusal (by position) of every other one."""
    if not items:
        return {}, {}
    try:
        outcomes = signer.sign([intent for _, intent in items])
        actor = SIGNER_ACTOR
    except SignerUnavailableError as exc:
        outcomes = [Decision.deny(ReasonCode.SIGNER_UNAVAILABLE, str(exc))] * len(items)
        actor = PATH_ACTOR
    signed: dict[int, SignedOrder] = {}
    refused: list[tuple[int, tuple[str, str, int], Decision]] = []
    for (position, intent), outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, SignedOrder):
            signed[position] = outcome
        else:
            refused.append((position, (intent.order_id, intent.digest().hex(), intent.created_ns), outcome))
    results = audit_refusals([(order, decision, actor) for _, order, decision in refused], append_many)
    return signed, {position: result for (position, _, _), result in zip(refused, results, strict=True)}
