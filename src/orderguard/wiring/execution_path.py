"""The sealed execution path for orders the controls gate let go, with keys held in process.

In the demo and the HTTP API the server signs on behalf of the originator (a custodial desk key
per principal), attests with the controls key (carrying the approvers' signatures for large
orders), seals to the connector and hands the envelope to ``ExecutionConnector``, which verifies
everything again, audits and sends it to the venue simulator. Keys are generated at start-up and
live only in memory: this is a demonstration of the path, not key management (see
``orderguard.execution.keystore`` for that).

Orders executed at the same time from several threads are combined (``execution._combine``):
one thread signs them with one signature per originator key (``sign_orders``), attests them
with one controls signature, seals each under the connector session (envelope v2) and lets
the connector judge them (``judge_many``: each signature verified once, replay claims). Then
it passes the lead on and waits for the connector's one durable audit commit for the batch
(``execute_judged``), after which the orders go to the venue; meanwhile the next batch is
prepared, so batches' commits overlap instead of queueing. Every order is still signed,
attested, sealed to the connector alone, verified, replay-checked and audited before it
executes; a lone caller's order is a batch of one.

``connector="process"`` runs the connector in its own process (``ConnectorProcess``): it makes
its own X25519 key, which never enters this process, and judges each batch there (the leader
waits for the verdicts, as for ``judge_many``); this process logs them (one commit, after
passing the lead) and only then lets it send the orders (``wiring.remote_connector``). If that
process is gone or answers garbage, the orders are refused (``CONNECTOR_UNAVAILABLE``, audited
here), never sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.config import FirmConfig
from orderguard.domain import AuditSink, Decision, Role
from orderguard.execution import (
    ConnectorPolicy,
    ConnectorResult,
    DropCopyRecipient,
    Envelope,
    EnvelopeVerifier,
    ExchangeSimulator,
    ExecutionConnector,
    KeyDirectory,
    KeyPurpose,
    MemoryReplayCache,
    OrderIntent,
    SignedOrder,
    approve,
    generate_key,
    new_nonce,
    seal,
    sign_order,
    sign_orders,
)
from orderguard.execution._combine import Combiner
from orderguard.execution.attestation import AttestedOrder, attest_encoded
from orderguard.execution.connector import JudgedBatch, append_many_of
from orderguard.execution.connector_process import ConnectorProcess
from orderguard.execution.envelope import SESSION_WRAP_PREFIX, seal_in_session
from orderguard.execution.session import SessionSealer
from orderguard.gateway.orders import OrderTicket
from orderguard.wiring.remote_connector import RemoteBatch, finish_remote, judge_remote

NS = 1_000_000_000
ORDER_LIFETIME_NS = 30 * NS
MAX_COMBINED = 32  # orders per combined batch: bounds what each envelope carries (digests, attestation)
ATTESTATION_SPREAD_NS = NS  # one attestation covers orders dated within a second of each other
ConnectorMode = Literal["in-process", "process"]


@dataclass(frozen=True, slots=True)
class _Order:
    ticket: OrderTicket
    decision: Decision
    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Judged:
    results: list[ConnectorResult | Exception | None]  # failures so far, by position in the batch
    ready: list[int]  # positions of the orders the connector judged
    judged: JudgedBatch | None  # in process
    remote: RemoteBatch | None = None  # in the connector process


class ExecutionPath:
    """Sign, attest, seal and hand orders to one connector in front of the venue simulator.

    ``max_combined=1`` and ``sessions=False`` give the per-order path (single-shot HPKE envelopes
    and drop copies, one signature and attestation per order): the benchmark's baseline.
    ``connector="process"`` starts the connector process (it reads ``firm_path`` itself); call
    ``close`` to stop it.
    """

    def __init__(
        self,
        firm: FirmConfig,
        audit: AuditSink,
        *,
        seed: int = 7,
        max_combined: int = MAX_COMBINED,
        sessions: bool = True,
        connector: ConnectorMode = "in-process",
        firm_path: Path | str | None = None,
        reply_timeout_s: float = 30.0,
    ) -> None:
        self.directory = KeyDirectory()
        self._append_many = append_many_of(audit)
        self._signing: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        self._approval: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        for principal in firm.principals:
            self._signing[principal.id] = self._ed25519(principal.id, KeyPurpose.ORDER_SIGNING)
            if Role.ORDER_APPROVER in principal.roles:
                self._approval[principal.id] = self._ed25519(principal.id, KeyPurpose.APPROVAL)
        self._controls = self._ed25519("service:controls", KeyPurpose.ATTESTATION)
        surveillance_id, surveillance_key = self._x25519("service:surveillance", KeyPurpose.SURVEILLANCE)
        self._venue: ExchangeSimulator | None = None
        self._connector: ExecutionConnector | None = None
        self._process: ConnectorProcess | None = None
        if connector == "process":
            if firm_path is None:
                raise ValueError("the connector process reads the firm file itself: pass firm_path")
            self._process = ConnectorProcess(firm_path, reply_timeout_s=reply_timeout_s)
            surveillance = self.directory.get(surveillance_id)
            publics = [r for r in self.directory.records() if r.purpose is not KeyPurpose.SURVEILLANCE]
            record = self._process.start(publics, surveillance, seed=seed, drop_copy_sessions=sessions)
            self.directory.add(record)
            connector_id = record.key_id
            self._connector_public = X25519PublicKey.from_public_bytes(record.public_raw)
        else:
            connector_id, connector_key = self._x25519("service:connector-1", KeyPurpose.CONNECTOR)
            self._connector_public = connector_key.public_key()
            self._venue = ExchangeSimulator(seed=seed)
            self._connector = ExecutionConnector(
                "service:connector-1",
                verifier=EnvelopeVerifier(
                    {connector_id: connector_key}, self.directory, ConnectorPolicy.from_firm(firm)
                ),
                replay=MemoryReplayCache(),
                audit=audit,
                venue=self._venue,
                surveillance=DropCopyRecipient(surveillance_id, surveillance_key.public_key()),
                drop_copy_sessions=sessions,
            )
        self._connector_id = connector_id
        self._session = (
            SessionSealer(connector_id, self._connector_public, SESSION_WRAP_PREFIX) if sessions else None
        )
        self.max_combined = max_combined
        self.combiner: Combiner[_Order, _Judged, ConnectorResult | Exception] = Combiner(
            self._judge_batch, self._finish_batch, max_combined
        )

    @property
    def venue(self) -> ExchangeSimulator:
        """The venue simulator of the in-process connector."""
        if self._venue is None:
            raise RuntimeError("the venue simulator lives in the connector process")
        return self._venue

    @property
    def connector(self) -> ExecutionConnector:
        """The in-process connector."""
        if self._connector is None:
            raise RuntimeError("the connector runs in its own process (connector='process')")
        return self._connector

    @property
    def connector_process(self) -> ConnectorProcess | None:
        return self._process

    def close(self) -> None:
        """Stop the connector process, if there is one (later orders are refused)."""
        if self._process is not None:
            self._process.close()

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
        result = self.combiner.run(_Order(order, decision, tuple(approvers)))
        if isinstance(result, Exception):
            raise result
        return result

    def execute_many(
        self, orders: Sequence[tuple[OrderTicket, Decision, Iterable[str]]]
    ) -> list[ConnectorResult | Exception]:
        """Execute several orders in batches, as concurrent ``execute`` calls would be combined.

        One entry per order: the connector's result, or the exception that kept that order from
        being signed and sealed (the other orders are not held up by it).
        """
        items = [_Order(ticket, decision, tuple(approvers)) for ticket, decision, approvers in orders]
        size = self.max_combined
        results: list[ConnectorResult | Exception] = []
        for start in range(0, len(items), size):
            results += self._finish_batch(self._judge_batch(items[start : start + size]))
        return results

    def _judge_batch(self, batch: list[_Order]) -> _Judged:
        """Sign, attest and seal ``batch``, and let the connector judge it (nothing executes yet)."""
        results: list[ConnectorResult | Exception | None] = [None] * len(batch)
        signed: dict[int, SignedOrder] = {}
        by_key: dict[str, list[tuple[int, OrderIntent]]] = {}
        for position, order in enumerate(batch):
            try:
                intent = self._intent(order.ticket)
                key_id = self._signing[order.ticket.actor][0]
            except (ValueError, KeyError) as exc:  # this order fails alone, as it would on its own
                results[position] = exc
                continue
            by_key.setdefault(key_id, []).append((position, intent))
        for group in by_key.values():
            key_id, key = self._signing[group[0][1].originator]
            intents = [intent for _, intent in group]
            if len(group) > 1:
                signatures = sign_orders(intents, key_id, key)
            else:
                signatures = [sign_order(intents[0], key_id, key)]
            signed.update(zip((position for position, _ in group), signatures, strict=True))
        attestations = self._attest({p: (batch[p], s) for p, s in signed.items()})
        ready = sorted(signed)
        envelopes = [self._seal(signed[p], attestations[p]).to_bytes() for p in ready]
        times = [batch[p].ticket.ts for p in ready]
        if self._process is None:
            return _Judged(results, ready, self.connector.judge_many(envelopes, times))
        orders = tuple((batch[p].ticket.order_id, signed[p].digest.hex(), batch[p].ticket.ts) for p in ready)
        return _Judged(results, ready, None, judge_remote(self._process, orders, envelopes, times))

    def _finish_batch(self, batch: _Judged) -> list[ConnectorResult | Exception]:
        """The connector's audit commit for the batch, then its drop copies and venue hand-offs."""
        results = batch.results
        if batch.judged is not None:
            done = self.connector.execute_judged(batch.judged)
        elif self._process is not None and batch.remote is not None:
            done = finish_remote(self._process, batch.remote, self._append_many)
        else:
            raise RuntimeError("a batch judged neither here nor in the connector process")
        for position, result in zip(batch.ready, done, strict=True):
            results[position] = result
        return [r if r is not None else RuntimeError("order was not handled") for r in results]

    def _seal(self, signed: SignedOrder, attestation: bytes) -> Envelope:
        if self._session is None:
            return seal(signed, attestation, self._connector_id, self._connector_public)
        return seal_in_session(signed, attestation, self._session)

    def _intent(self, order: OrderTicket) -> OrderIntent:
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

    def _attest(self, orders: dict[int, tuple[_Order, SignedOrder]]) -> dict[int, bytes]:
        """One attestation, encoded once, per run of orders dated within ``ATTESTATION_SPREAD_NS``."""
        controls_id, controls_key = self._controls
        attestations: dict[int, bytes] = {}
        positions = sorted(orders, key=lambda p: orders[p][0].ticket.ts)
        while positions:
            first_ts = orders[positions[0]][0].ticket.ts
            run = [p for p in positions if orders[p][0].ticket.ts - first_ts <= ATTESTATION_SPREAD_NS]
            positions = positions[len(run) :]
            entries = tuple(self._attested(*orders[p]) for p in run)
            # Issued at the earliest order's time: within the clock skew the connector allows for each.
            encoded = attest_encoded(entries, controls_id, controls_key, first_ts)[1]
            attestations.update(dict.fromkeys(run, encoded))
        return attestations

    def _attested(self, order: _Order, signed: SignedOrder) -> AttestedOrder:
        approvals = tuple(
            approve(signed.digest, who, *self._approval[who])
            for who in order.approvers
            if who in self._approval
        )
        decision = order.decision
        return AttestedOrder(signed.digest, decision.allowed, decision.reason, decision.policy_ids, approvals)
