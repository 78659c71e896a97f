"""A desk signer that misbehaves on purpose, for the API side's fail-closed tests.

``python rogue_signer.py MODE --socket ...`` announces real desk keys (HELLO), then on its first
SIGN: ``wrong-key`` answers every order as signed by bob's key, ``exit`` exits, ``silent`` never
answers.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from orderguard.execution import KeyPurpose, generate_key
from orderguard.execution.wire import Channel, Frame, Kind, expect


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("--socket", required=True)
    args, _ = parser.parse_known_args()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    channel = Channel(sock)
    records = {who: generate_key(who, KeyPurpose.ORDER_SIGNING, 0)[0] for who in ("alice", "bob")}
    channel.send(Frame(Kind.HELLO, 0, {"protocol": 1, "keys": [r.to_json() for r in records.values()]}))
    sign = expect(channel.receive(), Kind.SIGN)
    if args.mode == "wrong-key":
        orders = [{"key_id": records["bob"].key_id, "group": 0}] * len(sign.blobs)
        channel.send(Frame(Kind.SIGNED, sign.request_id, {"orders": orders}, (b"\x00" * 64,)))
    elif args.mode == "exit":
        print("rogue signer: leaving", file=sys.stderr)
        return 4
    elif args.mode == "silent":
        time.sleep(60)
    channel.receive()  # until the parent hangs up
    return 0


if __name__ == "__main__":
    sys.exit(main())
