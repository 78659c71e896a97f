"""The connector in its own process: a real child, a real Unix socket, real keys and envelopes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, ReasonCode
from orderguard.execution import FileKeyStore, KeyPurpose, KeyRecord, generate_key, open_drop_copy, seal
from orderguard.execution.connector_process import ConnectorProcess, ConnectorUnavailableError
from tests.conftest import EXAMPLE_FIRM
from tests.execution_support import World

ROGUE = Path(__file__).with_name("rogue_connector.py")
_SEALING = (KeyPurpose.CONNECTOR, KeyPurpose.SURVEILLANCE)


def public_records(world: World) -> list[KeyRecord]:
    """What the API process hands the connector: public records, no sealing keys."""
    return [r for r in world.records.values() if r.purpose not in _SEALING]


def sealed_to(world: World, record: KeyRecord) -> bytes:
    """A signed, attested order of alice's, sealed to ``record``'s public key."""
    signed = world.sign(world.intent())
    public = X25519PublicKey.from_public_bytes(record.public_raw)
    return seal(signed, world.attestation(signed.digest), record.key_id, public).to_bytes()


def started(world: World, **options: object) -> ConnectorProcess:
    process = ConnectorProcess(EXAMPLE_FIRM, **options)  # type: ignore[arg-type]
    process.start(public_records(world), world.records["surveillance"])
    return process


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm)


@pytest.fixture
def connector(world: World) -> Iterator[ConnectorProcess]:
    process = started(world, reply_timeout_s=20.0)
    yield process
    process.close()


def rogue(world: World, mode: str, **options: object) -> ConnectorProcess:
    return started(world, command=[sys.executable, str(ROGUE), mode], **options)


class TestHandshake:
    def test_the_connector_makes_its_own_key_and_announces_only_the_public_half(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """The child's key is a fresh connector key; its socket and directory are gone once it connected."""
        record = connector.record
        assert record is not None
        assert record.purpose is KeyPurpose.CONNECTOR
        assert record.owner == "service:connector-1"
        assert record.key_id not in {r.key_id for r in world.records.values()}
        assert not connector.socket_path.parent.exists()  # no socket to connect to once it has

    def test_a_connector_that_quits_before_its_handshake_is_named_with_its_last_words(
        self, world: World
    ) -> None:
        """The error names the process, the socket, what it printed and the fix."""
        with pytest.raises(ConnectorUnavailableError) as caught:
            rogue(world, "no-hello")
        message = str(caught.value)
        assert "exited during start-up" in message
        assert "exit code 3" in message
        assert "giving up before the handshake" in message
        assert "restart `orderguard serve`" in message

    def test_the_connector_can_open_with_a_key_from_its_key_store(self, world: World, tmp_path: Path) -> None:
        """With ``key_store``/``key_id`` the child loads that key and opens envelopes sealed to it."""
        store = FileKeyStore(tmp_path / "keys", create=True)
        record, private = generate_key("service:connector-1", KeyPurpose.CONNECTOR, 0)
        store.put(record, private)
        process = started(world, key_store=store.directory, key_id=record.key_id)
        try:
            assert process.record == record
            pending = process.judge([sealed_to(world, record)], [world.clock.now_ns])
            assert [e.reason_code for e in process.verdicts(pending)] == ["ALLOWED"]
        finally:
            process.close()

    def test_with_its_own_key_directory_the_connector_ignores_keys_the_parent_vouches_for(
        self, world: World, tmp_path: Path
    ) -> None:
        """A key the API process sends but the custodian's directory lacks verifies nothing."""
        directory = FileKeyStore(tmp_path / "public", create=True)
        for record in public_records(world):
            if record.owner != "alice":  # the custodian never registered alice's keys
                directory.put(record)
        process = started(world, key_directory=directory.directory)  # SETUP still sends alice's key
        try:
            assert process.record is not None
            bob = world.sign(world.intent(originator="bob"), "bob")
            public = X25519PublicKey.from_public_bytes(process.record.public_raw)
            by_bob = seal(bob, world.attestation(bob.digest), process.record.key_id, public).to_bytes()
            pending = process.judge([sealed_to(world, process.record), by_bob], [world.clock.now_ns] * 2)
            reasons = [e.reason_code for e in process.verdicts(pending)]
            assert reasons == [ReasonCode.SIGNATURE_INVALID.value, ReasonCode.ALLOWED.value]
        finally:
            process.close()

    def test_a_missing_firm_file_stops_the_start(self, world: World, tmp_path: Path) -> None:
        """The connector reads the firm file itself; a missing one is reported with its path."""
        process = ConnectorProcess(tmp_path / "nope.toml")
        with pytest.raises(ConnectorUnavailableError, match=r"nope\.toml: no such firm file"):
            process.start(public_records(world), None)


class TestBatches:
    def test_an_order_is_judged_then_logged_then_executed(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """Verdict entry first; fills and a drop copy only after the commit, under the given index."""
        assert connector.record is not None
        pending = connector.judge([sealed_to(world, connector.record)], [world.clock.now_ns])
        (entry,) = connector.verdicts(pending)
        assert (entry.action, entry.actor, entry.reason_code) == (
            AuditAction.EXECUTED,
            "service:connector-1",
            "ALLOWED",
        )
        (result,) = connector.commit(pending, [41])
        assert result.accepted
        assert result.audit_index == 41
        assert sum(e.qty or 0 for e in result.executions) == 100
        assert result.drop_copy is not None
        contents = open_drop_copy(result.drop_copy, world.x25519("surveillance"))
        assert contents.intent.order_id == result.order_id
        assert result.digest is not None
        assert entry.object_id == result.digest.hex()

    def test_an_envelope_sealed_to_another_key_is_refused(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """A well-signed order sealed to a key the connector does not hold never executes."""
        forged = sealed_to(world, world.records["connector"])  # same owner name, another key
        pending = connector.judge([forged], [world.clock.now_ns])
        (entry,) = connector.verdicts(pending)
        assert (entry.action, entry.reason_code) == (AuditAction.REFUSED, ReasonCode.SEAL_INVALID.value)
        (result,) = connector.commit(pending, [0])
        assert not result.accepted
        assert result.executions == ()

    def test_a_replayed_envelope_is_refused(self, world: World, connector: ConnectorProcess) -> None:
        """The same envelope in a later batch is judged a replay."""
        assert connector.record is not None
        envelope = sealed_to(world, connector.record)
        outcomes = []
        for index in (0, 1):
            pending = connector.judge([envelope], [world.clock.now_ns])
            connector.verdicts(pending)
            outcomes.append(connector.commit(pending, [index])[0].decision.reason)
        assert outcomes == [ReasonCode.ALLOWED, ReasonCode.REPLAYED]

    def test_batches_in_flight_are_answered_by_request_id(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """Two batches judged before either commits each get their own results."""
        assert connector.record is not None
        first = connector.judge([sealed_to(world, connector.record)], [world.clock.now_ns])
        second = connector.judge([sealed_to(world, connector.record)] * 2, [world.clock.now_ns] * 2)
        assert len(connector.verdicts(second)) == 2
        later = connector.commit(second, [5, 6])
        assert len(connector.verdicts(first)) == 1
        earlier = connector.commit(first, [7])
        assert [r.audit_index for r in (*later, *earlier)] == [5, 6, 7]
        assert [r.decision.reason for r in later] == [ReasonCode.ALLOWED, ReasonCode.REPLAYED]

    def test_an_aborted_batch_is_never_sent_nor_accepted_again(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """After an abort the claimed order is lost (a replay if sent again); the connection lives on."""
        assert connector.record is not None
        envelope = sealed_to(world, connector.record)
        pending = connector.judge([envelope], [world.clock.now_ns])
        connector.verdicts(pending)
        connector.abort(pending)
        again = connector.judge([envelope], [world.clock.now_ns])
        connector.verdicts(again)
        assert connector.commit(again, [0])[0].decision.reason is ReasonCode.REPLAYED


class TestFailClosed:
    def test_a_killed_connector_fails_the_batch_in_flight_and_every_later_one(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """Killed between its verdict and its commit: the error names the process, its socket and the fix."""
        assert connector.record is not None
        assert connector.process is not None
        pending = connector.judge([sealed_to(world, connector.record)], [world.clock.now_ns])
        connector.verdicts(pending)
        connector.process.kill()
        connector.process.wait(10)
        with pytest.raises(ConnectorUnavailableError) as caught:
            connector.commit(pending, [0])
        message = str(caught.value)
        assert f"process {connector.pid}" in message
        assert str(connector.socket_path) in message
        assert "restart `orderguard serve`" in message
        with pytest.raises(ConnectorUnavailableError):
            connector.judge([sealed_to(world, connector.record)], [world.clock.now_ns])

    @pytest.mark.parametrize(
        ("mode", "said"),
        [
            ("forged-actor", "answered garbage"),
            ("bytes", "broke the protocol"),
            ("exit", "closed the connection"),
        ],
    )
    def test_a_connector_answering_garbage_is_stopped(self, world: World, mode: str, said: str) -> None:
        """A verdict in another's name, bytes that are no frame, or a vanished child: refused and stopped."""
        process = rogue(world, mode)
        try:
            pending = process.judge([b"envelope"], [world.clock.now_ns])
            with pytest.raises(ConnectorUnavailableError, match=said):
                process.verdicts(pending)
            assert process.process is not None
            assert process.process.wait(10) is not None
        finally:
            process.close()

    def test_a_silent_connector_times_out(self, world: World) -> None:
        """No answer within the reply timeout is a failure, not a hang."""
        process = rogue(world, "silent", reply_timeout_s=0.5)
        try:
            pending = process.judge([b"envelope"], [world.clock.now_ns])
            with pytest.raises(ConnectorUnavailableError, match="did not answer request 1"):
                process.verdicts(pending)
        finally:
            process.close()

    def test_the_connector_dies_with_its_parent(self, tmp_path: Path) -> None:
        """A parent that dies without closing leaves no orphan connector behind."""
        script = (
            "import os, sys\n"
            "from orderguard.execution.connector_process import ConnectorProcess\n"
            f"p = ConnectorProcess({str(EXAMPLE_FIRM)!r})\n"
            "p.start([], None)\n"
            "print(p.pid, flush=True)\n"
            "os._exit(0)\n"
        )
        parent = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
        child = int(parent.stdout.strip())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper is dead)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    if "\nState:\tZ" in status:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
