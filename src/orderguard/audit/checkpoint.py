"""Checkpoints (origin, size, root) as C2SP signed notes.

A checkpoint note reads::

    <origin>
    <size>
    <base64 root>

    — <key name> <base64(key id || Ed25519 signature)>

The signature covers the three body lines, each ending in a newline. A note
may carry several signature lines (e.g. during a key rotation); it verifies
if at least one line is a good signature by a key in the set that covers the size.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from orderguard.audit.keys import KeySet, NoteSigner
from orderguard.audit.merkle import HASH_SIZE

SIGNATURE_PREFIX = "\u2014 "  # em dash and a space, as the note format requires


class CheckpointError(ValueError):
    """A checkpoint note is malformed or no trusted key vouches for it."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A claim that the log named ``origin`` had ``size`` entries with Merkle ``root``."""

    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def sign(self, signers: list[NoteSigner]) -> str:
        """The signed note text, one signature line per signer."""
        body = self.body()
        lines = []
        for signer in signers:
            blob = signer.verifier.key_id + signer.sign(body)
            lines.append(f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n")
        return body.decode() + "\n" + "".join(lines)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


def parse_note(text: str, where: str = "checkpoint") -> tuple[Checkpoint, list[NoteSignature]]:
    """Split a note into its checkpoint and signature lines; structure only, no signature check."""
    body, sep, signature_block = text.partition("\n\n")
    if not sep:
        raise CheckpointError(f"{where}: no blank line between the checkpoint body and its signatures")
    lines = body.split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"{where}: body needs origin, size and root lines, got {len(lines)} line(s)")
    origin, size_text, root_text = lines[:3]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"{where}: bad origin {origin!r} or size {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise CheckpointError(f"{where}: root line is not base64 ({exc})") from exc
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"{where}: root is {len(root)} bytes, not {HASH_SIZE}")
    signatures = []
    for number, line in enumerate(signature_block.rstrip("\n").split("\n"), start=1):
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            blob = b""
        if not line.startswith(SIGNATURE_PREFIX) or len(blob) < 5:
            raise CheckpointError(f"{where}: signature line {number} is not '— <name> <base64>'")
        signatures.append(NoteSignature(name, blob[:4], blob[4:]))
    checkpoint = Checkpoint(origin, int(size_text), root)
    if body.encode() + b"\n" != checkpoint.body():
        raise CheckpointError(f"{where}: body has extension lines this version does not accept")
    return checkpoint, signatures


def verify_note(text: str, keys: KeySet, where: str = "checkpoint") -> tuple[Checkpoint, str]:
    """The checkpoint and the name of the key that vouches for it, or ``CheckpointError`` saying why not."""
    checkpoint, signatures = parse_note(text, where)
    body = checkpoint.body()
    problems = []
    for sig in signatures:
        candidates = keys.find(sig.name, sig.key_id)
        if not candidates:
            problems.append(f"key {sig.name!r} ({sig.key_id.hex()}) is not in the trusted key set")
            continue
        for verifier in candidates:
            if not verifier.verify(body, sig.signature):
                problems.append(f"signature by {sig.name!r} does not verify")
            elif not verifier.covers(checkpoint.size):
                problems.append(
                    f"key {sig.name!r} is trusted only for sizes {verifier.from_size}.."
                    f"{verifier.until_size if verifier.until_size is not None else ''}, not {checkpoint.size}"
                )
            else:
                return checkpoint, sig.name
    raise CheckpointError(f"{where} (size {checkpoint.size}): " + "; ".join(problems or ["no signatures"]))
