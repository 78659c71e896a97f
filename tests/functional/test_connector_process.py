"""The sealed execution path with the connector in its own process, end to end: real child process,
real Unix socket, real keys, the real SQLite audit log, verified afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.audit.encoding import decode_leaf, decode_payload
from orderguard.audit.keys import KeySet, NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.audit.verify import verify_log
from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, Decision, ReasonCode, Side
from orderguard.execution import ConnectorResult, seal
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import ExecutionPath
from orderguard.wiring.remote_connector import PATH_ACTOR, finish_remote, judge_remote
from tests.conftest import EXAMPLE_FIRM
from tests.execution_support import Clock, World

ALLOW = Decision.allow("controls passed", ("policy.default",))
CONNECTOR = "service:connector-1"


def ticket(n: int, ts: int) -> OrderTicket:
    return OrderTicket(f"T-{n:05d}", "alice", "C-HEDGE-1", "AAPL", Side.BUY, 10, 190.5, "XNYS", ts)


class Logged:
    """A real audit log on SQLite with a checkpoint signer, and the sealed path in front of it."""

    def __init__(self, firm: FirmConfig, url: str) -> None:
        upgrade(url)
        self.signer = NoteSigner.generate("orderguard-test")
        self.log = AuditLog(url, signer=self.signer)
        self.path = ExecutionPath(firm, self.log, connector="process", firm_path=EXAMPLE_FIRM)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry's header fields with its ``after`` (from the payload)."""
        size = self.log.head()[0]
        rows = [self.log.store.entry(i) for i in range(size)]
        return [
            {**decode_leaf(row[2]).header, "after": decode_payload(row[4]).get("after")}
            for row in rows
            if row is not None and row[4] is not None
        ]

    def verify(self) -> None:
        self.log.close()
        report = verify_log(self.log.engine, KeySet([self.signer.verifier]))
        assert report.ok, report.findings


@pytest.fixture
def logged(firm: FirmConfig, sqlite_url: str) -> Iterator[Logged]:
    world = Logged(firm, sqlite_url)
    yield world
    world.path.close()
    world.log.close()


class TestConnectorProcessPath:
    def test_orders_from_threads_execute_once_each_and_the_log_verifies(self, logged: Logged) -> None:
        """Eight threads, 120 orders: each accepted, filled and audited once by the connector."""
        now = Clock().now_ns
        tickets = [ticket(n, now + n) for n in range(120)]
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda t: logged.path.execute(t, ALLOW), tickets))
        assert all(r.accepted and r.executions for r in results)
        executed = [h["object_id"] for h in logged.entries() if h["action"] == "executed"]
        assert len(executed) == len(set(executed)) == 120
        assert {r.digest.hex() for r in results if r.digest is not None} == set(executed)
        assert {h["actor"] for h in logged.entries()} == {CONNECTOR}
        logged.verify()

    def test_an_order_that_cannot_be_signed_fails_alone(self, logged: Logged) -> None:
        """An originator without a key fails before sealing; the rest of the batch executes."""
        now = Clock().now_ns
        alone = OrderTicket("T-M", "mallory", "C-HEDGE-1", "AAPL", Side.BUY, 10, 190.5, "XNYS", now)
        (only,) = logged.path.execute_many([(alone, ALLOW, ())])
        assert isinstance(only, KeyError)
        mixed = logged.path.execute_many([(alone, ALLOW, ()), (ticket(1, now), ALLOW, ())])
        assert isinstance(mixed[0], KeyError)
        assert isinstance(mixed[1], ConnectorResult)
        assert mixed[1].accepted
        assert [e["actor"] for e in logged.entries()] == [CONNECTOR]

    def test_envelopes_sealed_to_another_key_are_refused_and_audited(
        self, logged: Logged, firm: FirmConfig
    ) -> None:
        """An insider on the API host seals well-formed orders to a key it holds (under its own id, or
        under the connector's): the connector opens neither, and both refusals are in the log."""
        process = logged.path.connector_process
        assert process is not None
        assert process.record is not None
        insider = World(firm)
        envelopes = []
        for key_id in (insider.key_id("connector"), process.record.key_id):
            signed = insider.sign(insider.intent())
            public: X25519PublicKey = insider.x25519("connector").public_key()
            envelopes.append(seal(signed, insider.attestation(signed.digest), key_id, public).to_bytes())
        now = insider.clock.now_ns
        batch = judge_remote(process, (("X-1", "00", now), ("X-2", "00", now)), envelopes, [now, now])
        results = finish_remote(process, batch, logged.log.append_many)
        assert [r.decision.reason for r in results] == [ReasonCode.SEAL_INVALID] * 2
        assert all(not r.executions for r in results)
        assert [h["reason_code"] for h in logged.entries()] == ["SEAL_INVALID"] * 2
        logged.verify()

    def test_killing_the_connector_mid_run_refuses_the_rest_and_the_log_verifies(
        self, logged: Logged
    ) -> None:
        """After the kill every order is refused (audited, never filled); none is lost or doubled."""
        process = logged.path.connector_process
        assert process is not None
        assert process.process is not None
        now = Clock().now_ns
        done = 0
        lock = threading.Lock()

        def execute(t: OrderTicket) -> ConnectorResult:
            nonlocal done
            result = logged.path.execute(t, ALLOW)
            with lock:
                done += 1
                if done == 40:
                    process.process.kill()  # type: ignore[union-attr]
            return result

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(execute, [ticket(n, now + n) for n in range(200)]))
        accepted = [r for r in results if r.accepted]
        refused = [r for r in results if not r.accepted]
        assert accepted
        assert refused
        assert {r.decision.reason for r in refused} == {ReasonCode.CONNECTOR_UNAVAILABLE}
        assert all(r.executions == () for r in refused)
        assert all(r.executions for r in accepted)
        assert str(process.pid) in refused[-1].decision.message
        entries = logged.entries()
        refusals = [e["after"]["order_id"] for e in entries if e["actor"] == PATH_ACTOR]
        assert sorted(refusals) == sorted(r.order_id or "" for r in refused)
        executed = [e["after"]["order_id"] for e in entries if e["action"] == "executed"]
        assert len(executed) == len(set(executed))  # nothing doubled
        assert {r.order_id for r in accepted} <= set(executed)  # nothing filled unaudited
        logged.verify()


class FailingOnceSink:
    """An in-memory audit sink whose first ``append_many`` fails (a database that went away)."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self.failed = False

    def append(self, entry: AuditEntry) -> int:
        return self.append_many([entry])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[int]:
        if not self.failed:
            self.failed = True
            raise OSError("disk I/O error")
        self.entries += entries
        return list(range(len(self.entries) - len(entries), len(self.entries)))


class TestUnloggedVerdicts:
    def test_a_batch_whose_verdicts_cannot_be_logged_fails_and_the_next_goes_through(
        self, firm: FirmConfig
    ) -> None:
        """The append error reaches the caller (the batch is aborted); the connector stays usable."""
        sink = FailingOnceSink()
        path = ExecutionPath(firm, sink, connector="process", firm_path=EXAMPLE_FIRM)
        try:
            now = Clock().now_ns
            with pytest.raises(OSError, match="disk I/O error"):
                path.execute(ticket(1, now), ALLOW)
            assert path.execute(ticket(2, now), ALLOW).accepted
        finally:
            path.close()
        assert [e.reason_code for e in sink.entries] == ["ALLOWED"]
