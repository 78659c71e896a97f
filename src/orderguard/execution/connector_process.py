"""The API process's side of the connector process: start it, hand it public keys, talk to it.

``ConnectorProcess.start`` makes a private directory (0700), listens on a Unix socket there
(0600), starts ``python -m orderguard.execution.connector_service``, accepts exactly one
connection, checks with ``SO_PEERCRED`` that it comes from that child, and removes the
directory (the child's stderr log stays open here, for its last words). The child announces
its public key (HELLO); this side answers with public key records and the drop copy recipient
(SETUP). Batches then go ``judge`` -> ``verdicts`` -> (the caller logs
them) -> ``commit`` -> ``results``; several may be in flight, matched by request id.
``update_keys`` brings custody's later changes (rotation, revocation) into force in the child and
returns only once the child has applied them.

Fail closed: if the child exits, the connection ends, a frame breaks the protocol, or an answer
takes longer than ``reply_timeout_s``, the process is stopped and every waiting and later call
raises ``ConnectorUnavailableError`` naming the process, the socket and the fix. Accepting,
Starting, accepting, checking, stopping and describing the child itself live in ``connector_child``.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, NoReturn

from orderguard.domain import AuditEntry
from orderguard.execution.connector import ConnectorResult
from orderguard.execution.connector_child import (
    PROTOCOL,
    ConnectorUnavailableError,
    accept_child,
    check_hello,
    describe_child,
    spawn_child,
    stop_child,
)
from orderguard.execution.key_updates import KeysApplied, KeyUpdateRefusedError
from orderguard.execution.keys import KeyRecord
from orderguard.execution.wire import Channel, Frame, Kind, WireError, expect
from orderguard.execution.wire_messages import entries_from_frame, results_from_frame

__all__ = ["PROTOCOL", "SERVICE_COMMAND", "ConnectorProcess", "ConnectorUnavailableError", "PendingBatch"]

SERVICE_COMMAND: Final = ("-m", "orderguard.execution.connector_service")


@dataclass(eq=False)
class PendingBatch:
    """One batch in flight: its request id, its envelope count, and where its answers arrive."""

    request_id: int
    size: int
    answers: queue.SimpleQueue[Frame | ConnectorUnavailableError] = field(default_factory=queue.SimpleQueue)
    indexes: list[int] = field(default_factory=list)


class ConnectorProcess:
    """One connector child process and the connection to it; safe to call from threads."""

    def __init__(
        self,
        firm_path: Path | str,
        *,
        connector_id: str = "service:connector-1",
        start_timeout_s: float = 30.0,
        reply_timeout_s: float = 30.0,
        key_store: Path | str | None = None,
        key_id: str | None = None,
        key_directory: Path | str | None = None,
        command: Sequence[str] | None = None,
        reference_db: str | None = None,
    ) -> None:
        """``command`` starts the connector (default: this interpreter, ``-m`` the connector service);
        the socket, firm file, parent pid and key options are appended to it."""
        self.firm_path = Path(firm_path)
        self.connector_id = connector_id
        self.reply_timeout_s = reply_timeout_s
        self._start_timeout_s = start_timeout_s
        self._command = list(command) if command is not None else [sys.executable, *SERVICE_COMMAND]
        self._key_args = ["--key-store", str(key_store), "--key-id", key_id or ""] if key_store else []
        if key_directory is not None:  # the connector verifies with the custodian's records, not ours
            self._key_args += ["--key-directory", str(key_directory)]
        if reference_db is not None:  # the connector reads the stored reference prices itself
            self._key_args += ["--reference-db", reference_db]
        self._lock = threading.Lock()
        self._pending: dict[int, PendingBatch] = {}
        self._ids = itertools.count(1)
        self._failure: str | None = None  # why it cannot take orders, once it cannot
        self._cause: str | None = None  # the first thing that went wrong
        self._dir = Path(tempfile.mkdtemp(prefix="orderguard-connector-"))  # 0700 by mkdtemp
        self.socket_path = self._dir / "connector.sock"
        self._log_path = self._dir / "connector.log"
        self._log: BinaryIO | None = None  # the child's stderr; unlinked once it connected
        self.process: subprocess.Popen[bytes] | None = None
        self._channel: Channel | None = None
        self.record: KeyRecord | None = None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else -1

    def start(
        self,
        records: Sequence[KeyRecord],
        surveillance: KeyRecord | None,
        *,
        seed: int = 7,
        drop_copy_sessions: bool = True,
    ) -> KeyRecord:
        """Start the child and hand it ``records``; returns its connector key record (public)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            self.socket_path.chmod(0o600)
            listener.listen(1)
            listener.settimeout(0.1)
            self._log = self._log_path.open("w+b")
            self.process = spawn_child(
                self._command, self.socket_path, self.firm_path, self.connector_id, self._key_args, self._log
            )
            sock = accept_child(listener, self.process, self._start_timeout_s, self._describe)
        except ConnectorUnavailableError as exc:
            self._fail_start(str(exc))
        finally:
            listener.close()
            # Nobody else may ever connect, and nothing is left on disk: the log stays open here.
            shutil.rmtree(self._dir, ignore_errors=True)
        self._channel = Channel(sock)
        try:
            record = check_hello(self._channel.receive(), self.connector_id)
            meta: dict[str, object] = {
                "keys": [r.to_json() for r in records],
                "surveillance": surveillance.to_json() if surveillance is not None else None,
                "seed": seed,
                "drop_copy_sessions": drop_copy_sessions,
            }
            self._channel.send(Frame(Kind.SETUP, 0, meta))
            expect(self._channel.receive(), Kind.READY)
        except (WireError, OSError, ValueError) as exc:
            self._stop()
            self._fail_start(self._describe(f"failed its handshake ({exc})"))
        self._channel.sock.settimeout(None)
        self.record = record
        threading.Thread(target=self._read, name="connector-reader", daemon=True).start()
        return record

    def _fail_start(self, message: str) -> NoReturn:
        with self._lock:
            self._failure = message
        self.close()
        raise ConnectorUnavailableError(message) from None

    # -- batches -------------------------------------------------------------
    def judge(self, envelopes: Sequence[bytes], times: Sequence[int]) -> PendingBatch:
        """Send a batch to be judged; nothing executes until ``commit``."""
        with self._lock:
            self._check()
            pending = PendingBatch(next(self._ids), len(envelopes))
            self._pending[pending.request_id] = pending
        self._send(Frame(Kind.JUDGE, pending.request_id, {"times": list(times)}, tuple(envelopes)))
        return pending

    def verdicts(self, pending: PendingBatch) -> list[AuditEntry]:
        """The connector's audit entries for the batch, one per envelope, checked for shape."""
        frame = self._answer(pending, Kind.VERDICTS)
        try:
            return entries_from_frame(frame.meta, pending.size, self.connector_id)
        except WireError as exc:
            raise self._broken(f"answered garbage ({exc})") from None

    def commit(self, pending: PendingBatch, indexes: Sequence[int]) -> list[ConnectorResult]:
        """Tell the connector its verdicts are durable at ``indexes``; its results once it has acted."""
        pending.indexes = list(indexes)
        self._send(Frame(Kind.COMMIT, pending.request_id, {"indexes": pending.indexes}))
        frame = self._answer(pending, Kind.RESULTS)
        self._forget(pending)
        try:
            return results_from_frame(frame.meta, frame.blobs, pending.indexes)
        except WireError as exc:
            raise self._broken(f"answered garbage ({exc})") from None

    def update_keys(self, records: Sequence[KeyRecord]) -> KeysApplied:
        """Bring ``records`` (new, rotated or revoked keys) into force in the connector; returns once
        it has, so every batch judged after this call is judged with them. ``KeyUpdateRefusedError``
        if the connector refused them (nothing applied; e.g. an attempt to un-revoke a key)."""
        with self._lock:
            self._check()
            pending = PendingBatch(next(self._ids), 0)
            self._pending[pending.request_id] = pending
        try:
            self._send(Frame(Kind.KEYS, pending.request_id, {"records": [r.to_json() for r in records]}))
            frame = self._answer(pending, Kind.KEYS_APPLIED)
        finally:
            self._forget(pending)
        try:
            return KeysApplied.from_meta(frame.meta)
        except KeyUpdateRefusedError:  # a refusal, not garbage: the connector keeps its keys
            raise
        except (TypeError, ValueError) as exc:
            raise self._broken(f"answered garbage ({exc})") from None

    def abort(self, pending: PendingBatch) -> None:
        """The verdicts were not logged: the connector must send nothing of this batch."""
        self._forget(pending)
        with contextlib.suppress(ConnectorUnavailableError):
            self._send(Frame(Kind.ABORT, pending.request_id, {}))

    def _forget(self, pending: PendingBatch) -> None:
        with self._lock:
            self._pending.pop(pending.request_id, None)

    def _send(self, frame: Frame) -> None:
        channel = self._channel
        try:
            if channel is None:
                raise ConnectorUnavailableError(self._describe("was never started"))
            channel.send(frame)
        except (OSError, WireError) as exc:
            raise self._broken(f"cannot be written to ({exc})") from None

    def _answer(self, pending: PendingBatch, kind: Kind) -> Frame:
        try:
            answer = pending.answers.get(timeout=self.reply_timeout_s)
        except queue.Empty:
            raise self._broken(
                f"did not answer request {pending.request_id} in {self.reply_timeout_s:.0f} s"
            ) from None
        if isinstance(answer, ConnectorUnavailableError):
            raise answer
        if answer.kind is not kind:
            raise self._broken(f"answered {answer.kind.name} where {kind.name} was due")
        return answer

    def _read(self) -> None:
        """Route each answer to its batch; on the first failure, fail every batch and stop."""
        channel = self._channel
        assert channel is not None
        try:
            while (frame := channel.receive()) is not None:
                self._route(frame)
            self._broken("closed the connection")
        except (OSError, ValueError, WireError) as exc:  # ValueError: the connection was closed here
            self._broken(f"broke the protocol ({exc})")

    def _route(self, frame: Frame) -> None:
        with self._lock:
            pending = self._pending.get(frame.request_id)
        if pending is None:
            raise WireError(f"an answer to request {frame.request_id}, which is not in flight")
        pending.answers.put(frame)

    # -- failure and shutdown ------------------------------------------------------
    def _check(self) -> None:
        if self._failure is not None:
            raise ConnectorUnavailableError(self._failure)

    def _broken(self, what: str) -> ConnectorUnavailableError:
        """Stop the connector for good, fail every batch in flight, and say so (the first cause)."""
        with self._lock:
            self._cause = self._cause or what
        self._stop()  # before describing it: then its exit code is known
        with self._lock:
            if self._failure is None:
                self._failure = self._describe(self._cause)
            failure = ConnectorUnavailableError(self._failure)
            waiting = list(self._pending.values())
            self._pending.clear()
        for pending in waiting:
            pending.answers.put(failure)
        return failure

    def _describe(self, what: str) -> str:
        return describe_child(self.process, self.socket_path, self._log, what)

    def _stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        stop_child(self.process)

    def close(self) -> None:
        """Stop the child (closing the connection ends it) and remove the private directory."""
        with self._lock:
            if self._failure is None:
                self._failure = self._describe("was shut down")
        self._stop()
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._log is not None:
            self._log.close()
