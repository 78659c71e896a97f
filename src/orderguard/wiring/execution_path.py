"""The sealed execution path for orders the controls gate let go, with keys held in process.

In the demo and the HTTP API the server signs on behalf of the originator (a custodial desk key
per principal), attests with the controls key (carrying the approvers' signatures for large
orders), seals to the connector and hands the envelope to ``ExecutionConnector``, which verifies
everything again, audits and sends it to the venue simulator. Keys are generated at start-up and
live only in memory: this is a demonstration of the path, not key management (see
``orderguard.execution.keystore`` for that).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.config import FirmConfig
from orderguard.domain import AuditSink, Decision, Role
from orderguard.execution import (
    ConnectorPolicy,
    ConnectorResult,
    DropCopyRecipient,
    EnvelopeVerifier,
    ExchangeSimulator,
    ExecutionConnector,
    KeyDirectory,
    KeyPurpose,
    MemoryReplayCache,
    OrderIntent,
    approve,
    attest_order,
    generate_key,
    new_nonce,
    seal,
    sign_order,
)
from orderguard.gateway.orders import OrderTicket

NS = 1_000_000_000
ORDER_LIFETIME_NS = 30 * NS


class _Clock:
    """The connector's clock: the time of the order being handled (simulated days run in the past)."""

    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


class ExecutionPath:
    """Sign, attest, seal and hand orders to one connector in front of the venue simulator."""

    def __init__(self, firm: FirmConfig, audit: AuditSink, *, seed: int = 7) -> None:
        self.directory = KeyDirectory()
        self._signing: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        self._approval: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        for principal in firm.principals:
            self._signing[principal.id] = self._ed25519(principal.id, KeyPurpose.ORDER_SIGNING)
            if Role.ORDER_APPROVER in principal.roles:
                self._approval[principal.id] = self._ed25519(principal.id, KeyPurpose.APPROVAL)
        self._controls = self._ed25519("service:controls", KeyPurpose.ATTESTATION)
        connector_id, connector_key = self._x25519("service:connector-1", KeyPurpose.CONNECTOR)
        surveillance_id, surveillance_key = self._x25519("service:surveillance", KeyPurpose.SURVEILLANCE)
        self._connector_id, self._connector_public = connector_id, connector_key.public_key()
        self.clock = _Clock()
        self.venue = ExchangeSimulator(seed=seed)
        self.connector = ExecutionConnector(
            "service:connector-1",
            verifier=EnvelopeVerifier(
                {connector_id: connector_key}, self.directory, ConnectorPolicy.from_firm(firm)
            ),
            replay=MemoryReplayCache(),
            audit=audit,
            venue=self.venue,
            surveillance=DropCopyRecipient(surveillance_id, surveillance_key.public_key()),
            clock=self.clock,
        )

    def _ed25519(self, owner: str, purpose: KeyPurpose) -> tuple[str, Ed25519PrivateKey]:
        record, private = generate_key(owner, purpose, 0)
        self.directory.add(record)
        assert isinstance(private, Ed25519PrivateKey)
        return record.key_id, private

    def _x25519(self, owner: str, purpose: KeyPurpose) -> tuple[str, X25519PrivateKey]:
        record, private = generate_key(owner, purpose, 0)
        self.directory.add(record)
        assert isinstance(private, X25519PrivateKey)
        return record.key_id, private

    def execute(
        self, order: OrderTicket, decision: Decision, approvers: Iterable[str] = ()
    ) -> ConnectorResult:
        """Send an order the gate let go; the connector re-verifies it and audits its own verdict."""
        intent = OrderIntent(
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
        key_id, key = self._signing[order.actor]
        signed = sign_order(intent, key_id, key)
        approvals = tuple(
            approve(signed.digest, who, *self._approval[who]) for who in approvers if who in self._approval
        )
        controls_id, controls_key = self._controls
        attestation = attest_order(
            signed.digest,
            decision,
            approvals,
            controls_key_id=controls_id,
            key=controls_key,
            issued_ns=order.ts,
        )
        envelope = seal(signed, attestation, self._connector_id, self._connector_public)
        self.clock.now_ns = order.ts
        return self.connector.handle(envelope.to_bytes())
