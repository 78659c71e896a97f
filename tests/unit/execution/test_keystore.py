"""The file key store: one 0600 file per key in a 0700 directory, revocation list, strict loading."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orderguard.execution import FileKeyStore, KeyPurpose, KeyStoreError, generate_key

NOW = 1_763_700_000_000_000_000


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", create=True)


class TestFileKeyStore:
    def test_keys_are_written_one_file_each_with_private_permissions(self, store: FileKeyStore) -> None:
        """A key becomes <id>.json and <id>.key, both 0600, in a 0700 directory."""
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record, private)
        assert mode(store.directory) == 0o700
        for suffix in (".json", ".key"):
            assert mode(store.directory / f"{record.key_id}{suffix}") == 0o600

    def test_records_and_private_keys_load_back(self, store: FileKeyStore) -> None:
        """A fresh store object on the same directory sees the same records and keys."""
        signing, signing_key = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        sealing, sealing_key = generate_key("service:connector-1", KeyPurpose.CONNECTOR, NOW)
        store.put(signing, signing_key)
        store.put(sealing, sealing_key)
        reopened = FileKeyStore(store.directory)
        assert {r.key_id: r for r in reopened.records()} == {signing.key_id: signing, sealing.key_id: sealing}
        message = b"order digest"
        assert isinstance(signing_key, Ed25519PrivateKey)
        # The reloaded key is the same key: its public half verifies the original's signature.
        reopened.signing_key(signing.key_id).public_key().verify(signing_key.sign(message), message)
        assert reopened.sealing_key(sealing.key_id).public_key().public_bytes_raw() == sealing.public_raw

    def test_a_public_only_record_has_no_private_key(self, store: FileKeyStore) -> None:
        """A custodian's registry holds records without private keys and says so when asked."""
        record, _ = generate_key("bob", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record)
        with pytest.raises(KeyStoreError, match="does not hold the private key"):
            store.signing_key(record.key_id)

    def test_a_key_is_never_overwritten(self, store: FileKeyStore) -> None:
        """Putting the same key id twice is refused."""
        record, private = generate_key("alice", KeyPurpose.APPROVAL, NOW)
        store.put(record, private)
        with pytest.raises(KeyStoreError, match="already exists"):
            store.put(record, private)

    def test_revocation_is_listed_and_survives_reload(self, store: FileKeyStore) -> None:
        """A revoked key is in revocations.json (0600) and comes back revoked."""
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record, private)
        revoked = store.revoke(record.key_id, NOW + 5, "laptop lost")
        assert (revoked.revoked_ns, revoked.revocation_reason) == (NOW + 5, "laptop lost")
        assert mode(store.directory / "revocations.json") == 0o600
        assert FileKeyStore(store.directory).record(record.key_id).revoked_ns == NOW + 5

    def test_a_loose_directory_is_refused_with_the_chmod_fix(self, store: FileKeyStore) -> None:
        """A group- or world-accessible key directory refuses to load, naming the path and the fix."""
        store.directory.chmod(0o755)
        with pytest.raises(KeyStoreError, match=r"permissions 0755 .* run `chmod 700 .*keys`"):
            FileKeyStore(store.directory)

    def test_a_loose_key_file_is_refused_with_the_chmod_fix(self, store: FileKeyStore) -> None:
        """A readable private key file refuses to load, naming the file and `chmod 600`."""
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record, private)
        key_file = store.directory / f"{record.key_id}.key"
        key_file.chmod(0o644)
        with pytest.raises(KeyStoreError, match=rf"{key_file.name}: permissions 0644 .* `chmod 600 "):
            store.signing_key(record.key_id)
        (store.directory / f"{record.key_id}.json").chmod(0o640)
        with pytest.raises(KeyStoreError, match=r"\.json: permissions 0640"):
            store.records()

    def test_a_tampered_record_is_refused(self, store: FileKeyStore) -> None:
        """A record whose key id does not match its public key does not load."""
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        other, _ = generate_key("mallory", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record, private)
        path = store.directory / f"{record.key_id}.json"
        path.write_text(path.read_text().replace(record.public_raw.hex(), other.public_raw.hex()))
        with pytest.raises(KeyStoreError, match="does not match its public key"):
            store.records()

    def test_a_missing_directory_names_the_fix(self, tmp_path: Path) -> None:
        """Opening a store that does not exist says how to create one."""
        with pytest.raises(KeyStoreError, match="orderguard keys init"):
            FileKeyStore(tmp_path / "nowhere")

    def test_no_temporary_files_are_left_behind(self, store: FileKeyStore) -> None:
        """Writes go through a temporary file that is renamed into place."""
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, NOW)
        store.put(record, private)
        store.revoke(record.key_id, NOW, "test")
        assert not list(store.directory.glob("*.tmp"))
