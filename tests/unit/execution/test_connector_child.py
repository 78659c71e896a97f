"""The connector child's lifecycle helpers: the HELLO check, stopping the child, describing it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from orderguard.execution.connector_child import PROTOCOL, check_hello, describe_child, stop_child
from orderguard.execution.keys import KeyPurpose, KeyRecord
from orderguard.execution.keystore import generate_key
from orderguard.execution.wire import Frame, Kind, WireError

CONNECTOR_ID = "service:connector-1"


def hello(record: KeyRecord | None, protocol: object = PROTOCOL) -> Frame:
    meta: dict[str, object] = {"protocol": protocol}
    if record is not None:
        meta["connector"] = record.to_json()
    return Frame(Kind.HELLO, 0, meta)


class TestCheckHello:
    def test_the_connectors_own_key_record_is_accepted(self) -> None:
        """A HELLO in our protocol announcing the expected connector's key yields that record."""
        record, _ = generate_key(CONNECTOR_ID, KeyPurpose.CONNECTOR, 0)
        assert check_hello(hello(record), CONNECTOR_ID) == record

    @pytest.mark.parametrize(
        ("owner", "purpose", "protocol", "said"),
        [
            (CONNECTOR_ID, KeyPurpose.CONNECTOR, PROTOCOL + 1, "protocol"),
            ("service:connector-2", KeyPurpose.CONNECTOR, PROTOCOL, "service:connector-2"),
            (CONNECTOR_ID, KeyPurpose.SURVEILLANCE, PROTOCOL, "surveillance key"),
        ],
    )
    def test_a_wrong_hello_is_a_protocol_error(
        self, owner: str, purpose: KeyPurpose, protocol: int, said: str
    ) -> None:
        """Another protocol version, another connector's key, or a key of another purpose is refused."""
        record, _ = generate_key(owner, purpose, 0)
        with pytest.raises(WireError, match=said):
            check_hello(hello(record, protocol), CONNECTOR_ID)

    def test_a_hello_without_a_record_or_another_frame_is_refused(self) -> None:
        """A HELLO with no key record, any other frame, or the end of the stream is a protocol error."""
        with pytest.raises(WireError, match="no connector key record"):
            check_hello(hello(None), CONNECTOR_ID)
        with pytest.raises(WireError, match="expected HELLO"):
            check_hello(Frame(Kind.READY, 0, {}), CONNECTOR_ID)
        with pytest.raises(WireError, match="end of the stream"):
            check_hello(None, CONNECTOR_ID)


class TestStopAndDescribe:
    def test_a_stopped_child_is_described_with_its_signal_and_last_words(self, tmp_path: Path) -> None:
        """After ``stop_child`` the message names the pid, socket, signal, the fix and the log's tail."""
        socket_path = tmp_path / "connector.sock"
        with (tmp_path / "child.log").open("w+b") as log:
            child = subprocess.Popen(
                [sys.executable, "-c", "import sys, time; print('going quiet', flush=True); time.sleep(60)"],
                stdout=log,
                stderr=log,
            )
            try:
                while b"going quiet" not in (tmp_path / "child.log").read_bytes():
                    assert child.poll() is None
                    time.sleep(0.01)
                assert ", exit code" not in describe_child(child, socket_path, log, "is running")
                stop_child(child)
                message = describe_child(child, socket_path, log, "was stopped")
            finally:
                child.kill()
                child.wait()
        assert message.startswith(f"execution connector process {child.pid} (socket {socket_path}, ")
        assert "killed by signal 15) was stopped" in message
        assert "restart `orderguard serve`" in message
        assert message.endswith("; its last words: going quiet")

    def test_a_child_that_exited_is_described_with_its_exit_code_and_no_log(self, tmp_path: Path) -> None:
        """An exited child is named with its exit code; stopping it again changes nothing."""
        child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        child.wait(30)
        stop_child(child)
        stop_child(None)
        message = describe_child(child, tmp_path / "s", None, "exited during start-up")
        assert f"process {child.pid} (socket {tmp_path / 's'}, exit code 3) exited during start-up" in message
        assert "last words" not in message
        assert "process -1 " in describe_child(None, tmp_path / "s", None, "was never started")
