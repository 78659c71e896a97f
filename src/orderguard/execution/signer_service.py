"""The desk signer as its own process: ``python -m orderguard.execution.signer_service``.

It holds the desk's custodial order-signing keys, one per principal of the firm file, generated
here at start (or opened from a key store, ``--key-store DIR``: every order-signing key there
whose private half it holds); the private keys never leave it. It connects to the API process's
socket and announces the PUBLIC records (HELLO). Then, per SIGN frame (canonical order intents
as blobs), it reads each intent strictly, asks its own policy (``signer_policy``: traders only,
at a trader's pace, on its own clock) and signs what the policy allows with one signature per
originator (``sign_orders``; a lone order gets ``sign_order``), answering SIGNED: per intent its
key id and signature group, or the refusal. The codec is the connector's (struct + JSON, never
pickle). It exits when the parent closes the connection or dies, and on any frame that breaks
the protocol.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orderguard.config import ConfigError, FirmConfig, load_config
from orderguard.domain import Decision, ReasonCode
from orderguard.execution.connector_service import die_with_parent
from orderguard.execution.envelope import MAX_BATCH, sign_order, sign_orders
from orderguard.execution.intent import IntentError, OrderIntent
from orderguard.execution.keys import KeyPurpose, KeyRecord
from orderguard.execution.keystore import FileKeyStore, KeyStoreError, generate_key
from orderguard.execution.signer_policy import DEFAULT_ORDERS_PER_SECOND, DeskSignerPolicy, SignerLimits
from orderguard.execution.wire import Channel, Frame, Kind, WireError

PROTOCOL: Final = 1
DeskKeys = dict[str, tuple[KeyRecord, Ed25519PrivateKey]]  # originator -> its desk signing key


def desk_keys(firm: FirmConfig, key_store: str | None) -> DeskKeys:
    """One order-signing key per principal: fresh ones, or those ``key_store`` holds privately."""
    keys: DeskKeys = {}
    if key_store is None:
        for principal in firm.principals:
            record, private = generate_key(principal.id, KeyPurpose.ORDER_SIGNING, 0)
            assert isinstance(private, Ed25519PrivateKey)
            keys[principal.id] = (record, private)
        return keys
    store = FileKeyStore(key_store)
    for record in store.records():
        usable = record.revoked_ns is None and record.not_after_ns is None
        if record.purpose is KeyPurpose.ORDER_SIGNING and usable and store.has_private(record.key_id):
            keys[record.owner] = (record, store.signing_key(record.key_id))
    return keys


class SignerService:
    """Signs intents for one parent connection, under its own policy."""

    def __init__(self, channel: Channel, keys: DeskKeys, policy: DeskSignerPolicy) -> None:
        self._channel = channel
        self._keys = keys
        self._policy = policy

    def handshake(self) -> None:
        records = [record.to_json() for record, _ in self._keys.values()]
        self._channel.send(Frame(Kind.HELLO, 0, {"protocol": PROTOCOL, "keys": records}))

    def serve(self) -> None:
        """Answer SIGN frames until the parent closes the connection."""
        while (frame := self._channel.receive()) is not None:
            if frame.kind is not Kind.SIGN:
                raise WireError(f"unexpected {frame.kind.name} frame from the parent")
            self._channel.send(self._sign(frame))

    def _sign(self, frame: Frame) -> Frame:
        orders: list[dict[str, object]] = []
        by_originator: dict[str, list[tuple[int, OrderIntent]]] = {}
        for position, blob in enumerate(frame.blobs):
            try:
                intent = OrderIntent.from_canonical(blob)
            except IntentError as exc:
                orders.append(
                    {"refused": ReasonCode.NOT_AUTHORIZED.value, "message": f"not an intent: {exc}"}
                )
                continue
            if intent.originator in self._keys:
                refusal = self._policy.check(intent)
            else:
                message = f"the desk signer holds no key for {intent.originator}"
                refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, message)
            if refusal is not None:
                orders.append({"refused": refusal.reason.value, "message": refusal.message})
            else:
                orders.append({})
                by_originator.setdefault(intent.originator, []).append((position, intent))
        signatures: list[bytes] = []
        for originator, items in by_originator.items():
            record, key = self._keys[originator]
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                intents = [intent for _, intent in chunk]
                signed = sign_orders(intents, record.key_id, key) if len(chunk) > 1 else None
                signature = (
                    signed[0].signature if signed else sign_order(intents[0], record.key_id, key).signature
                )
                for position, _ in chunk:
                    orders[position] = {"key_id": record.key_id, "group": len(signatures)}
                signatures.append(signature)
        return Frame(Kind.SIGNED, frame.request_id, {"orders": orders}, tuple(signatures))


def _limits(per_second: int, per_minute: str | None) -> SignerLimits:
    try:
        notional = Decimal(per_minute) if per_minute is not None else None
    except InvalidOperation:
        raise ValueError(f"--max-notional-per-minute {per_minute!r}: expected a number") from None
    return SignerLimits(per_second, notional)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orderguard.execution.signer_service")
    parser.add_argument("--socket", required=True, help="the parent's Unix socket")
    parser.add_argument("--firm", required=True, help="the firm file: whom the signer signs for")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--key-store", help="a key store holding the desk's order-signing keys")
    parser.add_argument("--max-orders-per-second", type=int, default=DEFAULT_ORDERS_PER_SECOND)
    parser.add_argument("--max-notional-per-minute", help="per originator; default: no limit")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid, "signer")
    try:
        firm = load_config(args.firm)
        keys = desk_keys(firm, args.key_store)
        limits = _limits(args.max_orders_per_second, args.max_notional_per_minute)
    except (ConfigError, KeyStoreError, ValueError) as exc:
        print(f"signer: {exc}", file=sys.stderr)
        return 2
    policy = DeskSignerPolicy((p.to_domain() for p in firm.principals), limits)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    channel = Channel(sock)
    service = SignerService(channel, keys, policy)
    try:
        service.handshake()
        service.serve()
    except (WireError, ValueError) as exc:
        print(f"signer: protocol error, stopping: {exc}", file=sys.stderr)
        return 1
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the parent went away
    finally:
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
