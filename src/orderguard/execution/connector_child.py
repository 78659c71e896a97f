"""The connector child's lifecycle, seen from the API process: accept it, check it, stop it, describe it.

``connector_process`` keeps the books of the child's batches; this module holds the parts about the
child itself: starting it, accepting exactly one connection and checking with ``SO_PEERCRED``
that it comes from that child, checking its HELLO, stopping it, and describing its state (exit
code or signal, and the tail of its stderr log) in every ``ConnectorUnavailableError``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Final

from orderguard.execution.keys import KeyPurpose, KeyRecord
from orderguard.execution.wire import Frame, Kind, WireError, expect

PROTOCOL: Final = 1
_PEERCRED: Final = struct.Struct("3i")  # struct ucred: pid, uid, gid


class ConnectorUnavailableError(RuntimeError):
    """The connector process cannot take orders; the message names it and the fix."""


def spawn_child(  # noqa: PLR0917 - the child's command line, in order
    command: Sequence[str],
    socket_path: Path,
    firm_path: Path,
    connector_id: str,
    extra_args: Sequence[str],
    log: BinaryIO,
) -> subprocess.Popen[bytes]:
    """Start the connector service: ``command`` plus its socket, firm file, parent pid and connector id
    (then ``extra_args``); its output goes to ``log``."""
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            *command,
            "--socket",
            str(socket_path),
            "--firm",
            str(firm_path),
            "--parent-pid",
            str(os.getpid()),
            "--connector-id",
            connector_id,
            *extra_args,
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        close_fds=True,
    )


def accept_child(
    listener: socket.socket,
    process: subprocess.Popen[bytes],
    timeout_s: float,
    describe: Callable[[str], str],
) -> socket.socket:
    """The child's connection (with ``timeout_s`` set on it); any other peer is hung up on."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConnectorUnavailableError(describe("exited during start-up"))
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        pid = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))[0]
        if pid == process.pid:
            sock.settimeout(timeout_s)
            return sock
        sock.close()  # someone else found the socket: never talk to it
    raise ConnectorUnavailableError(describe(f"did not connect within {timeout_s:.0f} s"))


def check_hello(frame: Frame | None, connector_id: str) -> KeyRecord:
    """The connector key record the child announces; ``WireError`` unless it is ``connector_id``'s."""
    frame = expect(frame, Kind.HELLO)
    if frame.meta.get("protocol") != PROTOCOL:
        raise WireError(f"connector speaks protocol {frame.meta.get('protocol')!r}, expected {PROTOCOL}")
    connector = frame.meta.get("connector")
    if not isinstance(connector, dict):
        raise WireError("HELLO carries no connector key record")
    record = KeyRecord.from_json(connector, "HELLO")
    if record.purpose is not KeyPurpose.CONNECTOR or record.owner != connector_id:
        raise WireError(f"HELLO announces a {record.purpose.value} key of {record.owner}")
    return record


def stop_child(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate the child if it runs; kill it if it has not exited within 5 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def describe_child(
    process: subprocess.Popen[bytes] | None,
    socket_path: Path,
    log: BinaryIO | None,
    what: str,
    role: str = "execution connector",
) -> str:
    """The message for ``what`` happened: the process, its socket, how it ended, the fix, its last words.
    ``role`` names the child (the execution connector, or the desk signer)."""
    pid = process.pid if process is not None else -1
    code = process.poll() if process is not None else None
    exited = "" if code is None else f", killed by signal {-code}" if code < 0 else f", exit code {code}"
    return (
        f"{role} process {pid} (socket {socket_path}{exited}) {what}; "
        f"orders are refused until the {role} runs again: restart `orderguard serve` "
        f"(it starts a fresh {role} process){_log_tail(log)}"
    )


def _log_tail(log: BinaryIO | None) -> str:
    with contextlib.suppress(OSError, ValueError):  # ValueError: the log is closed
        if log is None:
            return ""
        size = os.fstat(log.fileno()).st_size
        tail = os.pread(log.fileno(), 2000, max(0, size - 2000))
        text = tail.decode("utf-8", errors="replace").strip()
        if text:
            return f"; its last words: {text[-300:]}"
    return ""
