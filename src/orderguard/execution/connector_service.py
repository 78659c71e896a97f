"""The execution connector as its own process: ``python -m orderguard.execution.connector_service``.

It generates its X25519 key at start (or loads it from a key store, ``--key-store DIR --key-id
ID``), connects to the API process's socket and announces the PUBLIC key (HELLO). The parent
answers with the public key records it needs (originators, controls, approvers) and the drop
copy recipient (SETUP); with ``--key-directory DIR`` the connector verifies with the records of
that key store (the custodian's) instead, so the parent cannot choose whom it trusts. The policy
comes from the firm file, read here. Then, per batch: JUDGE
(verify and claim replay; answer VERDICTS, the audit entries), COMMIT (the parent logged them
durably at these indexes: seal drop copies, send accepted orders to the venue simulator; answer
RESULTS) or ABORT (not logged: nothing is sent). The private key never leaves this process.
KEYS brings custody's later changes into force before the parent goes on; ``key_updates`` says
which changes it refuses (a revocation is final). Without ``--key-directory`` the parent may only
narrow trust (revoke, close a window): new keys are refused, so a rotation needs the custodian's
directory or a restart. With it the connector re-reads that directory for new keys and takes from
the parent only changes that narrow what it already trusts.

It exits when the parent closes the connection or dies (``PR_SET_PDEATHSIG`` on Linux, and the
end of the connection everywhere), and on any frame that breaks the protocol.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from orderguard.config import ConfigError, load_config
from orderguard.domain import AuditEntry
from orderguard.execution.connector import DropCopyRecipient, ExecutionConnector, JudgedBatch
from orderguard.execution.key_updates import (
    KeyUpdateRefusedError,
    merge_all,
    merged,
    refuse_new_keys,
    revoked_for_good,
)
from orderguard.execution.keys import KeyDirectory, KeyPurpose, KeyRecord
from orderguard.execution.keystore import FileKeyStore, KeyStoreError, generate_key
from orderguard.execution.policy import ConnectorPolicy
from orderguard.execution.replay import MemoryReplayCache
from orderguard.execution.venue import ExchangeSimulator
from orderguard.execution.verify import EnvelopeVerifier
from orderguard.execution.wire import Channel, Frame, Kind, WireError, expect
from orderguard.execution.wire_messages import entry_to_json, ints, result_to_json
from orderguard.gateway.reference_store import reference_reader

PROTOCOL: Final = 1
MAX_PENDING: Final = 1024  # judged batches awaiting their commit: beyond this the parent misbehaves
_PR_SET_PDEATHSIG: Final = 1


class _RemoteAudit:
    """The audit log lives in the parent (one sequencer); the connector never appends here."""

    def append(self, entry: AuditEntry) -> int:
        raise RuntimeError(f"the connector process cannot append {entry.object_id}: its log is in the parent")


def die_with_parent(parent_pid: int, name: str = "connector") -> None:
    """Be killed when the parent dies, then check it did not die before we asked."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        sys.exit(f"{name}: parent process {parent_pid} is already gone")


def _own_key(
    key_store: str | None, key_id: str | None, connector_id: str
) -> tuple[KeyRecord, X25519PrivateKey]:
    if key_store is None:
        record, private = generate_key(connector_id, KeyPurpose.CONNECTOR, 0)
        assert isinstance(private, X25519PrivateKey)
        return record, private
    if key_id is None:
        raise KeyStoreError(f"--key-store {key_store} needs --key-id: which connector key to open with")
    store = FileKeyStore(key_store)
    record = store.record(key_id)
    if record.purpose is not KeyPurpose.CONNECTOR:
        raise KeyStoreError(f"{key_store}: key {key_id} is a {record.purpose.value} key, not a connector key")
    return record, store.sealing_key(key_id)


class ConnectorService:
    """Serves one parent connection with one ``ExecutionConnector``."""

    def __init__(
        self,
        channel: Channel,
        record: KeyRecord,
        key: X25519PrivateKey,
        policy: ConnectorPolicy,
        trusted: list[KeyRecord] | None = None,
        *,
        key_directory: str | None = None,
    ) -> None:
        """``trusted``: the public key records to verify with, from the connector's own key
        directory (``key_directory``, re-read on KEYS); None takes them from the parent's SETUP."""
        self._trusted = trusted
        self._key_directory = key_directory
        self._directory = KeyDirectory()
        self._channel = channel
        self._record = record
        self._key = key
        self._policy = policy
        self._connector: ExecutionConnector | None = None
        self._pending: dict[int, JudgedBatch] = {}

    def handshake(self) -> None:
        self._channel.send(Frame(Kind.HELLO, 0, {"protocol": PROTOCOL, "connector": self._record.to_json()}))
        setup = expect(self._channel.receive(), Kind.SETUP)
        records = self._trusted
        if records is None:
            records = [KeyRecord.from_json(_obj(r), "SETUP keys") for r in _seq(setup.meta.get("keys"))]
        directory = self._directory
        for record in revoked_for_good([*records, self._record]):
            directory.add(record)
        recipient = None
        if setup.meta.get("surveillance") is not None:
            drop = KeyRecord.from_json(_obj(setup.meta["surveillance"]), "SETUP surveillance")
            recipient = DropCopyRecipient(drop.key_id, X25519PublicKey.from_public_bytes(drop.public_raw))
        seed = setup.meta.get("seed", 7)
        self._connector = ExecutionConnector(
            self._record.owner,
            verifier=EnvelopeVerifier({self._record.key_id: self._key}, directory, self._policy),
            replay=MemoryReplayCache(),
            audit=_RemoteAudit(),
            venue=ExchangeSimulator(seed=seed if isinstance(seed, int) else 7),
            surveillance=recipient,
            drop_copy_sessions=setup.meta.get("drop_copy_sessions") is not False,
        )
        self._channel.send(Frame(Kind.READY, 0, {}))

    def serve(self) -> None:
        """Answer frames until the parent closes the connection."""
        while (frame := self._channel.receive()) is not None:
            self._answer(frame)

    def _answer(self, frame: Frame) -> None:
        connector = self._connector
        assert connector is not None
        rid = frame.request_id
        if frame.kind is Kind.JUDGE:
            times = ints(frame.meta.get("times"))
            if len(self._pending) >= MAX_PENDING or rid in self._pending:
                raise WireError(f"request {rid}: {len(self._pending)} batches already await their commit")
            judged = connector.judge_many(frame.blobs, times)
            self._pending[rid] = judged
            self._channel.send(
                Frame(Kind.VERDICTS, rid, {"entries": [entry_to_json(e) for e in judged.entries]})
            )
        elif frame.kind is Kind.COMMIT:
            judged = self._take(rid)
            indexes = ints(frame.meta.get("indexes"))
            results = connector.execute_audited(judged, indexes)
            drop_copies = tuple(r.drop_copy.to_bytes() if r.drop_copy else b"" for r in results)
            self._channel.send(
                Frame(Kind.RESULTS, rid, {"results": [result_to_json(r) for r in results]}, drop_copies)
            )
        elif frame.kind is Kind.ABORT:
            self._take(rid)
        elif frame.kind is Kind.KEYS:
            self._channel.send(Frame(Kind.KEYS_APPLIED, rid, self._apply_keys(frame.meta)))
        else:
            raise WireError(f"unexpected {frame.kind.name} frame from the parent")

    def _apply_keys(self, meta: dict[str, object]) -> dict[str, object]:
        """Apply a KEYS update whole, or nothing of it; the answer says which."""
        updates = [KeyRecord.from_json(_obj(r), "KEYS records") for r in _seq(meta.get("records"))]
        ignored: list[str] = []
        try:
            if self._key_directory is not None:  # the custodian's records say which keys exist
                ignored = [r.key_id for r in updates if self._directory.get(r.key_id) is None]
                updates = [*self._reread(), *(r for r in updates if r.key_id not in ignored)]
            records = merge_all(self._directory, revoked_for_good(updates))
            if self._key_directory is None:  # the parent alone may only narrow trust
                refuse_new_keys(self._directory, records)
        except (KeyUpdateRefusedError, KeyStoreError) as exc:
            return {"applied": [], "ignored": ignored, "refused": str(exc)}
        for record in records:
            self._directory.add(record)
        return {"applied": [r.key_id for r in records], "ignored": ignored, "refused": None}

    def _reread(self) -> list[KeyRecord]:
        """The key directory's records now, each kept as it is here where it would widen trust."""
        assert self._key_directory is not None
        kept = []
        for record in revoked_for_good(FileKeyStore(self._key_directory).records()):
            try:
                kept.append(merged(self._directory.get(record.key_id), record))
            except KeyUpdateRefusedError:
                continue  # e.g. revoked here by the parent, not (yet) in the custodian's files
        return kept

    def _take(self, rid: int) -> JudgedBatch:
        judged = self._pending.pop(rid, None)
        if judged is None:
            raise WireError(f"request {rid} was never judged (or already finished)")
        return judged


def _seq(value: object) -> list[object]:
    if not isinstance(value, list):
        raise WireError(f"expected a list, got {type(value).__name__}")
    return value


def _obj(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise WireError(f"expected an object, got {type(value).__name__}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orderguard.execution.connector_service")
    parser.add_argument("--socket", required=True, help="the parent's Unix socket")
    parser.add_argument("--firm", required=True, help="the firm file: the connector's own policy")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--connector-id", default="service:connector-1")
    parser.add_argument("--key-store", help="a key store directory holding the connector's key")
    parser.add_argument("--key-id", help="the connector key to open envelopes with (with --key-store)")
    parser.add_argument(
        "--key-directory", help="a key store of public records to verify with, instead of the parent's"
    )
    parser.add_argument(
        "--reference-db", help="database URL of the stored reference prices (read only: a SELL's quorum)"
    )
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    try:
        policy = ConnectorPolicy.from_firm(
            load_config(args.firm), reference_store=reference_reader(args.reference_db)
        )
        record, key = _own_key(args.key_store, args.key_id, args.connector_id)
        trusted = FileKeyStore(args.key_directory).records() if args.key_directory else None
    except (ConfigError, KeyStoreError) as exc:
        print(f"connector: {exc}", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    channel = Channel(sock)
    service = ConnectorService(channel, record, key, policy, trusted, key_directory=args.key_directory)
    try:
        service.handshake()
        service.serve()
    except (WireError, ValueError) as exc:
        print(f"connector: protocol error, stopping: {exc}", file=sys.stderr)
        return 1
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the parent went away: nothing may execute without it
    finally:
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
