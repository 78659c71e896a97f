"""The sealed path end to end on one machine: file key stores, custody, the audit log, SQL replay cache;
the connector's batch handling and the in-process ``ExecutionPath`` used by the order desk."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, Decision, ReasonCode, Side
from orderguard.execution import (
    ConnectorPolicy,
    ConnectorResult,
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
from orderguard.gateway.orders import OrderTicket
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import ExecutionPath
from tests.execution_support import SECOND, Clock, MemoryAuditSink, World

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


class BatchAuditSink(MemoryAuditSink):
    """An in-memory sink with ``append_many``: records each commit's size and what the venue had then.

    With ``hold`` set, every commit waits until ``release`` is set.
    """

    def __init__(self, world: World | None = None, *, hold: bool = False) -> None:
        super().__init__()
        self.world = world
        self.commits: list[tuple[int, int]] = []  # (entries, orders the venue had received before)
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.fail: Exception | None = None
        self.calls = 0
        self._lock = threading.Lock()

    def append_many(self, entries: list[AuditEntry]) -> list[int]:
        with self._lock:
            self.calls += 1
        self.entered.set()
        self.release.wait(timeout=10)
        if self.fail is not None:
            raise self.fail
        received = len(self.world.venue.received) if self.world is not None else 0
        self.commits.append((len(entries), received))
        return [self.append(entry) for entry in entries]


class TestConnectorBatch:
    def test_a_batch_of_verdicts_is_one_commit_made_before_any_order_leaves(self, firm: FirmConfig) -> None:
        """handle_many audits every verdict in one append_many, then sends the orders to the venue."""
        sink = BatchAuditSink()
        world = World(firm, audit=sink, sessions=True)
        sink.world = world
        intents = [world.intent() for _ in range(4)]
        results = world.connector.handle_many([world.envelope(i) for i in intents])
        assert all(r.accepted for r in results)
        assert sink.commits == [(4, 0)]
        assert [r.audit_index for r in results] == [0, 1, 2, 3]
        assert world.venue.received == intents

    def test_a_replay_inside_one_batch_is_refused(self, firm: FirmConfig) -> None:
        """The same envelope twice in one batch: the first executes, the second is a replay."""
        world = World(firm, sessions=True)
        envelope = world.envelope()
        first, second = world.connector.handle_many([envelope, envelope])
        assert first.accepted
        assert second.decision.reason is ReasonCode.REPLAYED
        assert len(world.venue.received) == 1

    def test_a_failed_audit_commit_sends_nothing_to_the_venue(self, firm: FirmConfig) -> None:
        """If the verdicts cannot be made durable, no order of the batch executes."""
        sink = BatchAuditSink()
        sink.fail = OSError("disk full")
        world = World(firm, audit=sink)
        with pytest.raises(OSError, match="disk full"):
            world.connector.handle_many([world.envelope(), world.envelope()])
        assert world.venue.received == []

    def test_each_envelope_is_judged_at_its_own_time(self, firm: FirmConfig) -> None:
        """An envelope handled after its expiry is refused beside one handled in time."""
        world = World(firm)
        fresh, stale = world.envelope(), world.envelope()
        now = world.clock.now_ns
        results = world.connector.handle_many([fresh, stale], [now, now + 31 * SECOND])
        assert results[0].accepted
        assert results[1].decision.reason is ReasonCode.EXPIRED

    def test_times_must_match_envelopes(self, firm: FirmConfig) -> None:
        """One time per envelope, or none."""
        world = World(firm)
        with pytest.raises(ValueError, match="1 envelopes but 2 times"):
            world.connector.handle_many([world.envelope()], [1, 2])


def ticket(n: int, ts: int, *, actor: str = "alice", qty: float = 10, price: float = 190.5) -> OrderTicket:
    return OrderTicket(f"T-{n:05d}", actor, "C-HEDGE-1", "AAPL", Side.BUY, qty, price, "XNYS", ts)


ALLOW = Decision.allow("controls passed", ("policy.default",))


class TestExecutionPath:
    def test_a_lone_order_is_verified_audited_and_filled(self, firm: FirmConfig) -> None:
        """One order: the connector accepts it, audits it (one entry) and the venue fills it."""
        sink = MemoryAuditSink()
        path = ExecutionPath(firm, sink)
        result = path.execute(ticket(1, Clock().now_ns), ALLOW)
        assert result.accepted, result.decision
        assert result.executions
        assert [e.reason_code for e in sink.entries] == ["ALLOWED"]
        assert result.drop_copy is not None

    def test_the_per_order_configuration_seals_single_shot_envelopes_and_copies(
        self, firm: FirmConfig
    ) -> None:
        """max_combined=1, sessions=False: v1 drop copies, and each order still executes."""
        path = ExecutionPath(firm, MemoryAuditSink(), max_combined=1, sessions=False)
        now = Clock().now_ns
        results = [path.execute(ticket(n, now + n), ALLOW) for n in range(3)]
        assert all(r.accepted for r in results)
        assert all(r.drop_copy is not None and not r.drop_copy.session for r in results)
        assert path.combiner.batches == 3

    def test_a_batch_of_mixed_orders_passes_or_fails_order_by_order(self, firm: FirmConfig) -> None:
        """In one batch: orders seconds apart, a large approved order, and one that cannot be signed
        (unknown actor) -- that one fails alone, the others execute, with one audit commit."""
        sink = BatchAuditSink()
        path = ExecutionPath(firm, sink)
        now = Clock().now_ns
        orders = [
            (ticket(1, now), ALLOW, ()),
            (ticket(2, now + 3 * SECOND), ALLOW, ()),  # outside the first attestation's spread
            (ticket(3, now, qty=10_000, price=150), ALLOW, ("olga",)),  # large: olga approved it
            (ticket(4, now, actor="mallory"), ALLOW, ()),  # no key
            (ticket(5, now + 1), ALLOW, ()),
        ]
        results = path.execute_many(orders)
        assert isinstance(results[3], KeyError)
        accepted = [r for n, r in enumerate(results) if n != 3]
        assert all(isinstance(r, ConnectorResult) and r.accepted for r in accepted), accepted
        assert [size for size, _ in sink.commits] == [4]
        assert len(path.venue.received) == 4

    def test_a_large_order_without_its_approval_is_refused_in_a_batch(self, firm: FirmConfig) -> None:
        """The connector recomputes the quorum for each order of a batch."""
        path = ExecutionPath(firm, MemoryAuditSink())
        now = Clock().now_ns
        small, large = path.execute_many(
            [(ticket(1, now), ALLOW, ()), (ticket(2, now, qty=10_000, price=150), ALLOW, ())]
        )
        assert isinstance(small, ConnectorResult)
        assert small.accepted
        assert isinstance(large, ConnectorResult)
        assert large.decision.reason is ReasonCode.APPROVAL_REQUIRED

    def test_a_batch_waiting_for_its_commit_does_not_hold_up_the_next(self, firm: FirmConfig) -> None:
        """While one batch's audit commit is pending, later orders are judged and reach their own commit;
        none of them executes before the commits are released."""
        sink = BatchAuditSink(hold=True)
        path = ExecutionPath(firm, sink)
        now = Clock().now_ns
        with ThreadPoolExecutor(4) as pool:
            first = pool.submit(path.execute, ticket(1, now), ALLOW)
            assert sink.entered.wait(timeout=10)
            later = [pool.submit(path.execute, ticket(n, now + n), ALLOW) for n in (2, 3, 4)]
            while sink.calls < 2:  # a second batch reached its commit while the first still waits
                threading.Event().wait(0.001)
            assert path.venue.received == []
            sink.release.set()
            assert all(f.result(timeout=10).accepted for f in (first, *later))
        assert len(path.venue.received) == 4

    def test_concurrent_orders_each_execute_once_with_one_audit_entry(
        self, firm: FirmConfig, sqlite_url: str
    ) -> None:
        """Eight threads through the real audit log: every order accepted, audited once, filled once."""
        upgrade(sqlite_url)
        now = Clock().now_ns
        with AuditLog(sqlite_url) as log:
            path = ExecutionPath(firm, log)
            tickets = [ticket(n, now + n) for n in range(160)]
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda t: path.execute(t, ALLOW), tickets))
            size = log.head()[0]
            rows = [log.store.entry(i) for i in range(size)]
        assert all(r.accepted for r in results)
        assert sorted(r.order_id or "" for r in results) == sorted(t.order_id for t in tickets)
        headers = [decode_leaf(row[2]).header for row in rows if row is not None]
        executed = [h["object_id"] for h in headers if h["action"] == "executed"]
        assert len(executed) == len(set(executed)) == 160
        assert {r.digest.hex() for r in results if r.digest is not None} == set(executed)
        assert len(path.venue.received) == 160
