"""The sealed path end to end on one machine: file key stores, custody, the audit log, SQL replay cache."""

from __future__ import annotations

from pathlib import Path

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode
from orderguard.execution import (
    ConnectorPolicy,
    Context,
    EnvelopeVerifier,
    ExchangeSimulator,
    ExecutionConnector,
    FileKeyStore,
    KeyCustody,
    KeyOperation,
    KeyOperationRequest,
    KeyPurpose,
    approve,
    attest_order,
    generate_key,
    seal,
    sign_order,
)
from orderguard.execution.replay_sql import SqlReplayCache
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.execution_support import Clock, World

HOLDERS = {
    "kim": ("kim", KeyPurpose.APPROVAL),
    "sofia": ("sofia", KeyPurpose.APPROVAL),
    "alice": ("alice", KeyPurpose.ORDER_SIGNING),
    "carol": ("carol", KeyPurpose.APPROVAL),
    "olga": ("olga", KeyPurpose.APPROVAL),
    "controls": ("service:controls", KeyPurpose.ATTESTATION),
    "connector": ("service:connector-1", KeyPurpose.CONNECTOR),
}


class TestEndToEnd:
    def test_keys_issued_through_custody_carry_an_order_to_the_venue_and_the_audit_log(
        self, firm: FirmConfig, tmp_path: Path, sqlite_url: str
    ) -> None:
        """Each holder keeps its own store, custody registers the public keys, and a large order runs."""
        upgrade(sqlite_url)
        engine = make_engine(sqlite_url)
        clock = Clock()
        principals = {p.id: p.to_domain() for p in firm.principals}
        registry = FileKeyStore(tmp_path / "registry", create=True)
        stores = {name: FileKeyStore(tmp_path / name, create=True) for name in HOLDERS}
        key_ids: dict[str, str] = {}
        with AuditLog(engine) as log:
            custody = KeyCustody(registry, principals, log, clock)
            for name, (owner, purpose) in HOLDERS.items():
                record, private = generate_key(owner, purpose, clock.now_ns)
                stores[name].put(record, private)  # the private key stays with its holder
                key_ids[name] = record.key_id
                if name in {"kim", "sofia"}:
                    custody.bootstrap(owner, record.public_raw)
                    continue
                request = KeyOperationRequest(
                    KeyOperation.ISSUE, "kim", owner, purpose, "setup", clock.now_ns, record.public_raw
                )
                sofia = stores["sofia"].signing_key(key_ids["sofia"])
                approval = approve(
                    request.digest(), "sofia", key_ids["sofia"], sofia, Context.KEY_OPERATION_APPROVAL
                )
                custody.execute(request, [approval])
            setup_entries = log.head()[0]

            directory = registry.directory_view()
            connector_private = stores["connector"].sealing_key(key_ids["connector"])
            verifier = EnvelopeVerifier(
                {key_ids["connector"]: connector_private}, directory, ConnectorPolicy.from_firm(firm)
            )
            venue = ExchangeSimulator(seed=1)
            connector = ExecutionConnector(
                "service:connector-1",
                verifier=verifier,
                replay=SqlReplayCache(engine),
                audit=log,
                venue=venue,
                clock=clock,
            )

            intent = World(firm, clock=clock).large_intent()  # the test world is used for its order only
            alice = stores["alice"].signing_key(key_ids["alice"])
            signed = sign_order(intent, key_ids["alice"], alice)
            approvals = tuple(
                approve(signed.digest, name, key_ids[name], stores[name].signing_key(key_ids[name]))
                for name in ("carol", "olga")
            )
            controls = stores["controls"].signing_key(key_ids["controls"])
            attestation = attest_order(
                signed.digest,
                Decision.allow(),
                approvals,
                controls_key_id=key_ids["controls"],
                key=controls,
                issued_ns=clock.now_ns,
            )
            public = directory.sealing_public(key_ids["connector"])
            envelope = seal(signed, attestation, key_ids["connector"], public).to_bytes()

            clock.advance(0.002)
            accepted = connector.handle(envelope)
            assert accepted.accepted, accepted.decision
            assert venue.received == [intent]
            assert accepted.executions
            replayed = connector.handle(envelope)
            assert replayed.decision.reason is ReasonCode.REPLAYED

            size = log.head()[0]
            assert size == setup_entries + 2
            rows = [log.store.entry(i) for i in (size - 2, size - 1)]
        headers = [decode_leaf(row[2]).header for row in rows if row is not None]
        assert [(h["action"], h["reason_code"]) for h in headers] == [
            ("executed", "ALLOWED"),
            ("refused", "REPLAYED"),
        ]
        assert headers[0]["object_id"] == signed.digest.hex()
