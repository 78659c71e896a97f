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

``desk_keys="signer"`` keeps the order-signing keys in the desk signer process (``SignerProcess``):
the leader has each batch signed there (``wiring.remote_signer``); what it refuses, or everything
while it is gone (``SIGNER_UNAVAILABLE``), is audited here and never reaches the connector.
``apply_key_records`` brings custody's later key changes into force, in the connector first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
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
    generate_key,
    seal,
)
from orderguard.execution._combine import Combiner
from orderguard.execution.connector import append_many_of
from orderguard.execution.connector_process import ConnectorProcess
from orderguard.execution.envelope import SESSION_WRAP_PREFIX, seal_in_session
from orderguard.execution.key_updates import merge_all
from orderguard.execution.keys import KeyRecord
from orderguard.execution.session import SessionSealer
from orderguard.execution.signer_process import SignerProcess
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.reference_store import reference_reader
from orderguard.wiring.execution_batch import BatchOrder, JudgedOrders, attest_batch, intent_of, sign_by_key
from orderguard.wiring.remote_connector import finish_remote, judge_remote
from orderguard.wiring.remote_signer import sign_remote

MAX_COMBINED = 32  # orders per combined batch: bounds what each envelope carries (digests, attestation)
ConnectorMode = Literal["in-process", "process"]
DeskKeysMode = Literal["in-process", "signer"]  # where the desk's custodial order-signing keys live


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
        reference_db: str | None = None,
        desk_keys: DeskKeysMode = "in-process",
        signer_options: Sequence[str] = (),
    ) -> None:
        """``reference_db``: the database URL whose stored reference prices the connector reads itself
        (its own read, in the connector process too), for a SELL's quorum; None: firm-file floors only."""
        self.directory = KeyDirectory()
        self._append_many = append_many_of(audit)
        self._signing: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        self._approval: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        # desk_keys="signer": the order-signing keys live in the desk signer process (SignerProcess).
        self._signer = self._start_signer(firm_path, signer_options) if desk_keys == "signer" else None
        for principal in firm.principals:
            if self._signer is None:
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
            self._process = ConnectorProcess(
                firm_path, reply_timeout_s=reply_timeout_s, reference_db=reference_db
            )
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
                    {connector_id: connector_key},
                    self.directory,
                    ConnectorPolicy.from_firm(firm, reference_store=reference_reader(reference_db)),
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
        self._judging = threading.Lock()  # one batch judged at a time: combined here or by ``judge``
        self.combiner: Combiner[BatchOrder, JudgedOrders, ConnectorResult | Exception] = Combiner(
            self._judge_exclusive, self._finish_batch, max_combined
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

    def apply_key_records(self, records: Sequence[KeyRecord]) -> None:
        """Bring custody's changes (new, rotated, revoked public keys) into force: in the connector
        process first (it answers once applied), then here. ``KeyUpdateRefusedError`` if they would
        widen trust in a known key (a revocation is final); a ``KeyCustody`` listener.

        Holds the judging lock, so no batch is judged half under the old keys; a batch judged before
        it (not yet finished) still executes as judged."""
        with self._judging:
            updates = merge_all(self.directory, records)
            if self._process is not None:
                self._process.update_keys(updates)
            for record in updates:
                self.directory.add(record)

    def close(self) -> None:
        """Stop the connector process, if there is one (later orders are refused)."""
        if self._process is not None:
            self._process.close()
        if self._signer is not None:
            self._signer.close()

    def _start_signer(self, firm_path: Path | str | None, options: Sequence[str]) -> SignerProcess:
        if firm_path is None:
            raise ValueError("the desk signer process reads the firm file itself: pass firm_path")
        signer = SignerProcess(firm_path, options=options)
        for record in signer.start():
            self.directory.add(record)
        return signer

    def _desk_key_id(self, originator: str) -> str:
        """The id of the key that signs ``originator``'s orders; KeyError if there is none."""
        if self._signer is not None:
            return self._signer.keys[originator].key_id
        return self._signing[originator][0]

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
        result = self.combiner.run(BatchOrder(order, decision, tuple(approvers)))
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
        items = [BatchOrder(ticket, decision, tuple(approvers)) for ticket, decision, approvers in orders]
        size = self.max_combined
        results: list[ConnectorResult | Exception] = []
        for start in range(0, len(items), size):
            results += self._finish_batch(self._judge_batch(items[start : start + size]))
        return results

    def judge(self, orders: Sequence[tuple[OrderTicket, Decision, Iterable[str]]]) -> JudgedOrders:
        """A batch's first half (at most ``max_combined`` orders): signed, attested, sealed and judged
        by the connector, nothing executed yet. For callers that combine orders themselves (the
        order desk's event loop); it takes turns with ``execute``'s combining."""
        return self._judge_exclusive([BatchOrder(t, decision, tuple(who)) for t, decision, who in orders])

    def finish(self, judged: JudgedOrders) -> list[ConnectorResult | Exception]:
        """A batch's second half: the connector's verdicts durably logged (one commit), then the orders
        sent to the venue. One entry per order: its result, or what kept it from being sealed."""
        return self._finish_batch(judged)

    def _judge_exclusive(self, batch: list[BatchOrder]) -> JudgedOrders:
        with self._judging:
            return self._judge_batch(batch)

    def _judge_batch(self, batch: list[BatchOrder]) -> JudgedOrders:
        """Sign, attest and seal ``batch``, and let the connector judge it (nothing executes yet)."""
        results: list[ConnectorResult | Exception | None] = [None] * len(batch)
        signed: dict[int, SignedOrder] = {}
        by_key: dict[str, list[tuple[int, OrderIntent]]] = {}
        for position, order in enumerate(batch):
            try:
                intent = intent_of(order.ticket)
                key_id = self._desk_key_id(order.ticket.actor)
            except (ValueError, KeyError) as exc:  # this order fails alone, as it would on its own
                results[position] = exc
                continue
            by_key.setdefault(key_id, []).append((position, intent))
        if self._signer is not None:  # signed in the desk signer process; its refusals are audited
            items = [item for group in by_key.values() for item in group]
            signed, refused = sign_remote(self._signer, items, self._append_many)
            for position, refusal in refused.items():
                results[position] = refusal
            by_key = {}
        signed.update(sign_by_key(by_key, self._signing))
        to_attest = {p: (batch[p], s) for p, s in signed.items()}
        attestations = attest_batch(to_attest, self._controls, self._approval)
        ready = sorted(signed)
        envelopes = [self._seal(signed[p], attestations[p]).to_bytes() for p in ready]
        times = [batch[p].ticket.ts for p in ready]
        if self._process is None:
            return JudgedOrders(results, ready, self.connector.judge_many(envelopes, times))
        orders = tuple((batch[p].ticket.order_id, signed[p].digest.hex(), batch[p].ticket.ts) for p in ready)
        return JudgedOrders(results, ready, None, judge_remote(self._process, orders, envelopes, times))

    def _finish_batch(self, batch: JudgedOrders) -> list[ConnectorResult | Exception]:
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
