"""Key stores: where private keys and public key records are kept.

``KeyStore`` is the interface an HSM or a cloud KMS would implement. The
file implementation keeps one file per key in a directory that only its owner
may enter: ``<key_id>.json`` (the public record), ``<key_id>.key`` (PKCS#8 PEM
private key, only where this holder owns the key) and ``revocations.json``
(the revocation list). Directories must be 0700 and files 0600; a store that
finds looser permissions refuses to load and names the file and the
``chmod`` that fixes it. A custodian's directory of public records is the same
kind of store without ``.key`` files: private keys are generated where they
are used and never pass through the custodian.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.execution.keys import KeyDirectory, KeyPurpose, KeyRecord, key_id_for
from orderguard.execution.signing import Signer

PrivateKey = Ed25519PrivateKey | X25519PrivateKey
REVOCATIONS = "revocations.json"
_KEY_ID_RE = re.compile(r"^k[0-9a-f]{24}$")


class KeyStoreError(Exception):
    """A key store that cannot be used as it is; the message names the path and the fix."""


class KeyStore(Protocol):
    """Public key records, the revocation list, and (for keys this holder owns) private keys."""

    def records(self) -> list[KeyRecord]:
        """Every record, with revocations applied."""
        ...

    def put(self, record: KeyRecord, private_key: PrivateKey | None = None) -> None:
        """Add a new record (and its private key, if this holder keeps it)."""
        ...

    def update(self, record: KeyRecord) -> None:
        """Replace the record of an existing key (rotation closes its window)."""
        ...

    def revoke(self, key_id: str, revoked_ns: int, reason: str) -> KeyRecord:
        """Add the key to the revocation list; returns the revoked record."""
        ...

    def signing_key(self, key_id: str) -> Signer:
        """Something that signs with this key: a loaded key here, a handle in an HSM or KMS."""
        ...

    def sealing_key(self, key_id: str) -> X25519PrivateKey:
        """The X25519 key HPKE opens with (an HSM adapter would decapsulate inside the device)."""
        ...


def generate_key(owner: str, purpose: KeyPurpose, not_before_ns: int) -> tuple[KeyRecord, PrivateKey]:
    """A fresh key pair of the right algorithm for ``purpose``, and its record."""
    private: PrivateKey = (
        X25519PrivateKey.generate() if purpose.algorithm == "x25519" else Ed25519PrivateKey.generate()
    )
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KeyRecord(key_id_for(public_raw), owner, purpose, public_raw, not_before_ns), private


class FileKeyStore:
    """One file per key in a 0700 directory; every file 0600."""

    def __init__(self, directory: Path | str, *, create: bool = False) -> None:
        self.directory = Path(directory)
        if create and not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
            self.directory.chmod(0o700)  # mkdir's mode is filtered by the umask
        if not self.directory.is_dir():
            message = f"{self.directory}: no such key directory; create it with `orderguard keys init`"
            raise KeyStoreError(message)
        _require_private(self.directory, 0o700)

    # -- records -----------------------------------------------------------
    def records(self) -> list[KeyRecord]:
        revoked = self._revocations()
        records = []
        for path in sorted(self.directory.glob("k*.json")):
            record = self._load_record(path)
            if record.key_id in revoked and record.revoked_ns is None:
                revoked_ns, reason = revoked[record.key_id]
                record = _with_revocation(record, revoked_ns, reason)
            records.append(record)
        return records

    def record(self, key_id: str) -> KeyRecord:
        for record in self.records():
            if record.key_id == key_id:
                return record
        raise KeyStoreError(f"{self.directory}: no key {key_id}; list keys with `orderguard keys list`")

    def directory_view(self) -> KeyDirectory:
        """The public side of this store, for verifiers."""
        return KeyDirectory(self.records())

    def put(self, record: KeyRecord, private_key: PrivateKey | None = None) -> None:
        json_path = self._path(record.key_id, ".json")
        if json_path.exists():
            raise KeyStoreError(f"{json_path}: key {record.key_id} already exists")
        if private_key is not None:
            pem = private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_private(self._path(record.key_id, ".key"), pem, exclusive=True)
        _write_private(json_path, _dump(record.to_json()), exclusive=True)

    def update(self, record: KeyRecord) -> None:
        path = self._path(record.key_id, ".json")
        if not path.exists():
            raise KeyStoreError(f"{path}: no key {record.key_id} to update")
        _write_private(path, _dump(record.to_json()), exclusive=False)

    def revoke(self, key_id: str, revoked_ns: int, reason: str) -> KeyRecord:
        record = self.record(key_id)
        revocations = self._revocations()
        revocations.setdefault(key_id, (revoked_ns, reason))
        body = [
            {"key_id": k, "revoked_ns": ns, "reason": why} for k, (ns, why) in sorted(revocations.items())
        ]
        _write_private(self.directory / REVOCATIONS, _dump({"revoked": body}), exclusive=False)
        revoked_ns, reason = revocations[key_id]
        return _with_revocation(record, revoked_ns, reason)

    # -- private keys ------------------------------------------------------
    def has_private(self, key_id: str) -> bool:
        """Whether this store holds the private half of ``key_id``."""
        return self._path(key_id, ".key").exists()

    def signing_key(self, key_id: str) -> Ed25519PrivateKey:
        key = self._load_private(key_id)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{self._path(key_id, '.key')}: not an Ed25519 signing key")
        return key

    def sealing_key(self, key_id: str) -> X25519PrivateKey:
        key = self._load_private(key_id)
        if not isinstance(key, X25519PrivateKey):
            raise KeyStoreError(f"{self._path(key_id, '.key')}: not an X25519 sealing key")
        return key

    # -- files -------------------------------------------------------------
    def _path(self, key_id: str, suffix: str) -> Path:
        if not _KEY_ID_RE.match(key_id):
            raise KeyStoreError(f"{key_id!r} is not a key id (expected 'k' followed by hex digits)")
        return self.directory / f"{key_id}{suffix}"

    def _load_record(self, path: Path) -> KeyRecord:
        _require_private(path, 0o600)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise KeyStoreError(f"{path}: unreadable key record: {exc}") from None
        try:
            return KeyRecord.from_json(data, str(path))
        except ValueError as exc:
            raise KeyStoreError(str(exc)) from None

    def _load_private(self, key_id: str) -> PrivateKey:
        path = self._path(key_id, ".key")
        if not path.exists():
            raise KeyStoreError(f"{path}: this store does not hold the private key of {key_id}")
        _require_private(path, 0o600)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey | X25519PrivateKey):
            raise KeyStoreError(f"{path}: unsupported key type {type(key).__name__}")
        return key

    def _revocations(self) -> dict[str, tuple[int, str]]:
        path = self.directory / REVOCATIONS
        if not path.exists():
            return {}
        _require_private(path, 0o600)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(r["key_id"]): (int(r["revoked_ns"]), str(r["reason"])) for r in data["revoked"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"{path}: unreadable revocation list: {exc}") from None


def _with_revocation(record: KeyRecord, revoked_ns: int, reason: str) -> KeyRecord:
    return replace(record, revoked_ns=revoked_ns, revocation_reason=reason)


def _dump(data: object) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _require_private(path: Path, mode: int) -> None:
    """Refuse a key file or directory that anyone but its owner can read, write or enter."""
    actual = stat.S_IMODE(path.stat().st_mode)
    if actual & 0o077:
        raise KeyStoreError(
            f"{path}: permissions {actual:04o} let other users reach key material; "
            f"run `chmod {mode:o} {path}` (and check who may have copied it)"
        )


def _write_private(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write a 0600 file completely (temp file, fsync, rename) so no half-written key is ever read."""
    if exclusive and path.exists():
        raise KeyStoreError(f"{path}: already exists; refusing to overwrite key material")
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    temp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
