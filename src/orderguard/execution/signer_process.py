"""The API process's side of the desk signer process: start it, learn its public keys, ask it to sign.

Started like the connector process (``connector_child``: a private 0700 directory, a 0600 Unix
socket, exactly one connection, checked with ``SO_PEERCRED``, the directory removed once it
connected). The child announces the public records of the desk's order-signing keys (HELLO);
``sign`` sends intents (SIGN) and builds ``SignedOrder``s from the answer (SIGNED), or returns
the signer's refusal for an intent. One request at a time (the execution path's batch leader is
its only caller). Fail closed: if the child exits, breaks the protocol, answers with a key that
is not the originator's, or takes longer than ``reply_timeout_s``, it is stopped and every later
call raises ``SignerUnavailableError`` naming the process, its socket and the fix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Final, NoReturn

from orderguard.domain import Decision, ReasonCode
from orderguard.execution.connector_child import (
    ConnectorUnavailableError,
    accept_child,
    describe_child,
    stop_child,
)
from orderguard.execution.envelope import SignedOrder
from orderguard.execution.intent import OrderIntent
from orderguard.execution.keys import KeyPurpose, KeyRecord
from orderguard.execution.signing import SIGNATURE_BYTES
from orderguard.execution.wire import Channel, Frame, Kind, WireError, expect

SIGNER_COMMAND: Final = ("-m", "orderguard.execution.signer_service")
ROLE: Final = "desk signer"


class SignerUnavailableError(RuntimeError):
    """The desk signer process cannot sign; the message names it and the fix."""


class SignerProcess:
    """One desk signer child process and the connection to it; safe to call from threads."""

    def __init__(
        self,
        firm_path: Path | str,
        *,
        start_timeout_s: float = 30.0,
        reply_timeout_s: float = 30.0,
        options: Sequence[str] = (),
        command: Sequence[str] | None = None,
    ) -> None:
        """``options`` go to the signer as they are (``--key-store``, ``--max-orders-per-second``,
        ``--max-notional-per-minute``); ``command`` replaces ``python -m ...signer_service``."""
        self.firm_path = Path(firm_path)
        self.reply_timeout_s = reply_timeout_s
        self._start_timeout_s = start_timeout_s
        self._command = [*(command or (sys.executable, *SIGNER_COMMAND)), *options]
        self._lock = threading.Lock()
        self._failure: str | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="orderguard-signer-"))
        self.socket_path = self._dir / "signer.sock"
        self._log: BinaryIO | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._channel: Channel | None = None
        self._ids = 0
        self.keys: dict[str, KeyRecord] = {}  # originator -> the public record of its desk key

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else -1

    def start(self) -> list[KeyRecord]:
        """Start the child; the public records of the desk keys it holds."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            self.socket_path.chmod(0o600)
            listener.listen(1)
            listener.settimeout(0.1)
            self._log = (self._dir / "signer.log").open("w+b")
            self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [*self._command, "--socket", str(self.socket_path), "--firm", str(self.firm_path),
                 "--parent-pid", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, close_fds=True,
            )  # fmt: skip
            sock = accept_child(listener, self.process, self._start_timeout_s, self._describe)
        except ConnectorUnavailableError as exc:  # accept_child's error, worded for the signer
            self._fail_start(str(exc))
        finally:
            listener.close()
            shutil.rmtree(self._dir, ignore_errors=True)
        self._channel = Channel(sock)
        try:
            self.keys = _hello_keys(self._channel.receive())
        except (WireError, OSError, ValueError) as exc:
            self._fail_start(self._describe(f"failed its handshake ({exc})"))
        sock.settimeout(self.reply_timeout_s)
        return list(self.keys.values())

    def sign(self, intents: Sequence[OrderIntent]) -> list[SignedOrder | Decision]:
        """Each intent signed by its originator's desk key, or the signer's refusal of it."""
        with self._lock:
            if self._failure is not None:
                raise SignerUnavailableError(self._failure)
            channel = self._channel
            if channel is None:
                self._fail(self._describe("was never started"))
            self._ids += 1
            blobs = tuple(intent.canonical_bytes() for intent in intents)
            try:
                channel.send(Frame(Kind.SIGN, self._ids, {}, blobs))
                return self._signed(intents, expect(channel.receive(), Kind.SIGNED))
            except TimeoutError:
                self._fail(self._describe(f"did not answer within {self.reply_timeout_s:.0f} s"))
            except (BrokenPipeError, ConnectionResetError):
                self._fail(self._describe("closed the connection"))
            except (OSError, WireError, ValueError, KeyError, TypeError) as exc:
                self._fail(self._describe(f"broke the protocol ({exc})"))

    def _signed(self, intents: Sequence[OrderIntent], frame: Frame) -> list[SignedOrder | Decision]:
        if frame.request_id != self._ids:
            raise WireError(f"answered request {frame.request_id}, not {self._ids}")
        answer = frame.meta.get("orders")
        orders = [o for o in answer if isinstance(o, dict)] if isinstance(answer, list) else []
        if not isinstance(answer, list) or len(orders) != len(answer) or len(orders) != len(intents):
            raise WireError(f"SIGNED for {len(intents)} intents carries {answer!r:.60}")
        groups: dict[int, list[int]] = {}
        for position, (intent, order) in enumerate(zip(intents, orders, strict=True)):
            if "refused" in order:
                continue
            if order["key_id"] != self.keys[intent.originator].key_id:
                raise WireError(
                    f"signed {intent.order_id} with {order['key_id']}, not {intent.originator}'s key"
                )
            groups.setdefault(int(order["group"]), []).append(position)
        if sorted(groups) != list(range(len(frame.blobs))):
            raise WireError(f"{len(frame.blobs)} signatures for signature groups {sorted(groups)}")
        result: list[SignedOrder | Decision] = [
            Decision.deny(ReasonCode(str(o["refused"])), str(o["message"])) if "refused" in o else _UNSET
            for o in orders
        ]
        for group, positions in groups.items():
            signature = frame.blobs[group]
            if len(signature) != SIGNATURE_BYTES:
                raise WireError(f"a signature of {len(signature)} bytes")
            digests = [hashlib.sha256(intents[p].canonical_bytes()).digest() for p in positions]
            batch = b"".join(digests) if len(positions) > 1 else b""
            for position, digest in zip(positions, digests, strict=True):
                intent = intents[position]
                key_id = self.keys[intent.originator].key_id
                result[position] = SignedOrder(
                    intent, intent.canonical_bytes(), digest, key_id, signature, batch
                )
        return result

    def _fail_start(self, message: str) -> NoReturn:
        self._failure = message
        self.close()
        raise SignerUnavailableError(message) from None

    def _fail(self, message: str) -> NoReturn:
        """Stop the signer for good and say why (the first failure stays the reason)."""
        self._failure = self._failure or message
        self._stop()
        raise SignerUnavailableError(self._failure) from None

    def _describe(self, what: str) -> str:
        return describe_child(self.process, self.socket_path, self._log, what, ROLE)

    def _stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        stop_child(self.process)

    def close(self) -> None:
        """Stop the child and remove the private directory; later calls are refused."""
        with self._lock:
            if self._failure is None:
                self._failure = self._describe("was shut down")
            self._stop()
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._log is not None:
            self._log.close()


_UNSET: Final = Decision.deny(ReasonCode.SIGNER_UNAVAILABLE, "not answered")  # replaced for every signed one


def _hello_keys(frame: Frame | None) -> dict[str, KeyRecord]:
    """The desk keys the signer announces, by owner; ``WireError`` unless each is an order-signing key."""
    frame = expect(frame, Kind.HELLO)
    if frame.meta.get("protocol") != 1:
        raise WireError(f"signer speaks protocol {frame.meta.get('protocol')!r}, expected 1")
    records = frame.meta.get("keys")
    if not isinstance(records, list):
        raise WireError("HELLO carries no key records")
    keys = {}
    for data in records:
        if not isinstance(data, dict):
            raise WireError("a key record is not an object")
        record = KeyRecord.from_json(data, "signer HELLO")
        if record.purpose is not KeyPurpose.ORDER_SIGNING:
            raise WireError(f"HELLO announces a {record.purpose.value} key of {record.owner}")
        keys[record.owner] = record
    return keys
