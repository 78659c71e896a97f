"""A connector process that misbehaves on purpose, for the API side's fail-closed tests.

``python -m tests.integration.execution.rogue_connector MODE --socket ...`` does the real
handshake with a real key, then on its first JUDGE: ``forged-actor`` answers a verdict entry in
the controls service's name, ``bytes`` writes bytes that are no frame, ``silent`` never answers,
``exit`` exits. ``no-hello`` exits before the handshake.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from orderguard.domain import AuditAction, AuditEntry
from orderguard.execution import KeyPurpose, generate_key
from orderguard.execution.wire import Channel, Frame, Kind, expect
from orderguard.execution.wire_messages import entry_to_json


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--connector-id", default="service:connector-1")
    args, _ = parser.parse_known_args()
    if args.mode == "no-hello":
        print("rogue: giving up before the handshake", file=sys.stderr)
        return 3
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    channel = Channel(sock)
    record, _ = generate_key(args.connector_id, KeyPurpose.CONNECTOR, 0)
    channel.send(Frame(Kind.HELLO, 0, {"protocol": 1, "connector": record.to_json()}))
    expect(channel.receive(), Kind.SETUP)
    channel.send(Frame(Kind.READY, 0, {}))
    judge = expect(channel.receive(), Kind.JUDGE)
    if args.mode == "forged-actor":
        forged = AuditEntry("order", AuditAction.EXECUTED, "ab" * 32, "service:controls", 1, decision="allow",
                            reason_code="ALLOWED", after={})  # fmt: skip
        entries = [entry_to_json(forged)] * len(judge.blobs)
        channel.send(Frame(Kind.VERDICTS, judge.request_id, {"entries": entries}))
    elif args.mode == "bytes":
        sock.sendall(b"\x00\x00\x00\x08not-a-frame")
    elif args.mode == "exit":
        return 0
    elif args.mode == "silent":
        time.sleep(60)
    channel.receive()  # until the parent hangs up
    return 0


if __name__ == "__main__":
    sys.exit(main())
