"""One batch of orders on the sealed execution path: intents, desk signatures (in process), attestations.

An order the gate let go becomes an ``OrderIntent`` (a fresh nonce, valid for ``ORDER_LIFETIME_NS``);
the controls key attests the signed orders once per run of orders dated within
``ATTESTATION_SPREAD_NS`` of each other, carrying each large order's approver signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orderguard.domain import Decision
from orderguard.execution import (
    ConnectorResult,
    OrderIntent,
    SignedOrder,
    approve,
    new_nonce,
    sign_order,
    sign_orders,
)
from orderguard.execution.attestation import AttestedOrder, attest_encoded
from orderguard.execution.connector import JudgedBatch
from orderguard.gateway.orders import OrderTicket
from orderguard.wiring.remote_connector import RemoteBatch

NS = 1_000_000_000
ORDER_LIFETIME_NS = 30 * NS
ATTESTATION_SPREAD_NS = NS  # one attestation covers orders dated within a second of each other
SigningKey = tuple[str, Ed25519PrivateKey]  # (key id, private key)


@dataclass(frozen=True, slots=True)
class BatchOrder:
    """An order the gate let go, with its decision and the approvers whose signatures it carries."""

    ticket: OrderTicket
    decision: Decision
    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JudgedOrders:
    """What ``ExecutionPath.judge`` hands back for ``finish``: a batch the connector has judged."""

    results: list[ConnectorResult | Exception | None]  # failures so far, by position in the batch
    ready: list[int]  # positions of the orders the connector judged
    judged: JudgedBatch | None  # in process
    remote: RemoteBatch | None = None  # in the connector process


def intent_of(order: OrderTicket) -> OrderIntent:
    """The order as the connector will verify it: a fresh nonce, expiring ``ORDER_LIFETIME_NS`` later."""
    return OrderIntent(
        order_id=order.order_id,
        originator=order.actor,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        qty=Decimal(str(order.qty)),
        price=Decimal(str(order.price)),
        venue=order.venue,
        nonce=new_nonce(),
        created_ns=order.ts,
        expires_ns=order.ts + ORDER_LIFETIME_NS,
    )


def sign_by_key(
    by_key: dict[str, list[tuple[int, OrderIntent]]], signing: dict[str, SigningKey]
) -> dict[int, SignedOrder]:
    """Each originator's orders signed with its desk key, one signature for several: by position."""
    signed: dict[int, SignedOrder] = {}
    for group in by_key.values():
        key_id, key = signing[group[0][1].originator]
        intents = [intent for _, intent in group]
        if len(group) > 1:
            signatures = sign_orders(intents, key_id, key)
        else:
            signatures = [sign_order(intents[0], key_id, key)]
        signed.update(zip((position for position, _ in group), signatures, strict=True))
    return signed


def attest_batch(
    orders: dict[int, tuple[BatchOrder, SignedOrder]],
    controls: SigningKey,
    approval_keys: dict[str, SigningKey],
) -> dict[int, bytes]:
    """One attestation, encoded once, per run of orders dated within ``ATTESTATION_SPREAD_NS``."""
    controls_id, controls_key = controls
    attestations: dict[int, bytes] = {}
    positions = sorted(orders, key=lambda p: orders[p][0].ticket.ts)
    while positions:
        first_ts = orders[positions[0]][0].ticket.ts
        run = [p for p in positions if orders[p][0].ticket.ts - first_ts <= ATTESTATION_SPREAD_NS]
        positions = positions[len(run) :]
        entries = tuple(_attested(*orders[p], approval_keys) for p in run)
        # Issued at the earliest order's time: within the clock skew the connector allows for each.
        encoded = attest_encoded(entries, controls_id, controls_key, first_ts)[1]
        attestations.update(dict.fromkeys(run, encoded))
    return attestations


def _attested(order: BatchOrder, signed: SignedOrder, approval_keys: dict[str, SigningKey]) -> AttestedOrder:
    approvals = tuple(
        approve(signed.digest, who, *approval_keys[who]) for who in order.approvers if who in approval_keys
    )
    decision = order.decision
    return AttestedOrder(signed.digest, decision.allowed, decision.reason, decision.policy_ids, approvals)
