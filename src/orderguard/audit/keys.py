"""Ed25519 note keys in the C2SP signed-note text formats, and the verifier key set.

Signer key (secret, kept in a file or ``ORDERGUARD_AUDIT_KEY``, never in the database)::

    PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>

Verifier key (public)::

    <name>+<key id, 8 hex>+<base64(0x01 || 32-byte public key)>

The key id is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key).
A key set file holds one verifier key per line, optionally limited to the tree
sizes the key may sign: ``<vkey> [from=N] [until=N]`` (``#`` starts a comment).
Rotating keys means adding the new key with ``from=`` and closing the old one
with ``until=``: checkpoints the old key signed stay verifiable, and a stolen old
key cannot sign a larger tree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALG_ED25519: Final = 1
KEY_ENV: Final = "ORDERGUARD_AUDIT_KEY"


class KeyFormatError(ValueError):
    """A key or key set cannot be parsed; the message names the input and the fix."""


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte note key id of an Ed25519 key called ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_name(name: str, where: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise KeyFormatError(f"{where}: key name {name!r} must be non-empty, without spaces or '+'")


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A public key that may verify checkpoints of sizes ``from_size`` .. ``until_size`` (inclusive)."""

    name: str
    public_key: bytes
    from_size: int = 0
    until_size: int | None = None

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """This key in the note verifier-key text format."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def covers(self, size: int) -> bool:
        return self.from_size <= size and (self.until_size is None or size <= self.until_size)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """The secret half: signs checkpoint bodies."""

    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        _check_name(name, "key name")
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, _public_bytes(self.private_key.public_key()))

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def skey(self) -> str:
        """This key in the note signer-key text format (secret: keep it out of logs and databases)."""
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"


def _decode_key(text: str, where: str, parts: int) -> tuple[list[str], bytes]:
    fields = text.strip().split("+", parts - 1)  # base64 may itself contain "+"
    if len(fields) != parts:
        raise KeyFormatError(f"{where}: expected {parts} '+'-separated fields, got {len(fields)}")
    try:
        raw = base64.b64decode(fields[-1], validate=True)
    except binascii.Error as exc:
        raise KeyFormatError(f"{where}: key material is not base64 ({exc})") from exc
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise KeyFormatError(f"{where}: not an Ed25519 note key (want 0x01 + 32 bytes)")
    _check_name(fields[-3], where)
    return fields, raw[1:]


def parse_signer(text: str, where: str = "signing key") -> NoteSigner:
    """Parse a ``PRIVATE+KEY+...`` signer key; ``where`` names its source in errors."""
    if not text.strip().startswith("PRIVATE+KEY+"):
        raise KeyFormatError(
            f"{where}: a signing key starts with 'PRIVATE+KEY+'; create one with `orderguard audit keygen`"
        )
    fields, seed = _decode_key(text, where, 5)
    signer = NoteSigner(fields[2], Ed25519PrivateKey.from_private_bytes(seed))
    if signer.verifier.key_id.hex() != fields[3].lower():
        raise KeyFormatError(f"{where}: key id {fields[3]} does not match the key material")
    return signer


def parse_verifier(text: str, where: str = "verifier key") -> NoteVerifier:
    """Parse a ``name+id+base64`` verifier key."""
    fields, public = _decode_key(text, where, 3)
    verifier = NoteVerifier(fields[0], public)
    if verifier.key_id.hex() != fields[1].lower():
        raise KeyFormatError(f"{where}: key id {fields[1]} does not match the key material")
    return verifier


def load_signer(path: Path | None = None) -> NoteSigner | None:
    """The signing key from ``path``, else from ``ORDERGUARD_AUDIT_KEY`` (the key text itself), else None."""
    if path is not None:
        try:
            return parse_signer(path.read_text(), f"key file {path}")
        except OSError as exc:
            raise KeyFormatError(f"key file {path}: cannot read it ({exc.strerror})") from exc
    text = os.environ.get(KEY_ENV)
    return parse_signer(text, f"environment variable {KEY_ENV}") if text else None


class KeySet:
    """Verifier keys by name and id: which key may vouch for which checkpoint."""

    def __init__(self, verifiers: list[NoteVerifier]) -> None:
        self.verifiers = list(verifiers)

    def find(self, name: str, kid: bytes) -> list[NoteVerifier]:
        return [v for v in self.verifiers if v.name == name and v.key_id == kid]

    def to_text(self) -> str:
        lines = []
        for v in self.verifiers:
            limits = f" from={v.from_size}" if v.from_size else ""
            limits += f" until={v.until_size}" if v.until_size is not None else ""
            lines.append(v.vkey() + limits)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str, where: str) -> KeySet:
        verifiers: list[NoteVerifier] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            place = f"{where} line {number}"
            vkey, *options = line.split()
            verifier = parse_verifier(vkey, place)
            limits: dict[str, int] = {}
            for option in options:
                key, _, value = option.partition("=")
                if key not in ("from", "until") or not value.isdigit():
                    raise KeyFormatError(f"{place}: option {option!r} is not from=N or until=N")
                limits[key] = int(value)
            verifiers.append(
                NoteVerifier(verifier.name, verifier.public_key, limits.get("from", 0), limits.get("until"))
            )
        if not verifiers:
            raise KeyFormatError(f"{where}: no verifier keys; add lines written by `orderguard audit keygen`")
        return cls(verifiers)

    @classmethod
    def load(cls, path: Path) -> KeySet:
        try:
            return cls.parse(path.read_text(), f"key set {path}")
        except OSError as exc:
            raise KeyFormatError(f"key set {path}: cannot read it ({exc.strerror})") from exc
