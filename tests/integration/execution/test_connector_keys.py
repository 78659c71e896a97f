"""Key rotation and revocation after start reach the connector process (wire kind KEYS): real child,
real socket, real keys. The attacks: a revoked key, a rotated-out key, an un-revocation by message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from orderguard.execution import FileKeyStore, KeyPurpose, KeyRecord, generate_key, seal, sign_order
from orderguard.execution.connector_process import ConnectorProcess
from orderguard.execution.key_updates import KeyUpdateRefusedError
from tests.execution_support import SECOND, World
from tests.integration.execution.test_connector_process import public_records, started


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm)


@pytest.fixture
def connector(world: World) -> Iterator[ConnectorProcess]:
    process = started(world, reply_timeout_s=20.0)
    yield process
    process.close()


def verdict(world: World, process: ConnectorProcess, signer: str = "alice", key: str | None = None) -> str:
    """The connector's reason code for one small order of ``signer``'s, signed with key ``key``."""
    assert process.record is not None
    intent = world.intent(originator=signer)
    if key is None:
        signed = world.sign(intent, signer)
    else:
        private = world.private[key]
        assert isinstance(private, Ed25519PrivateKey)
        signed = sign_order(intent, world.key_id(key), private)
    public = X25519PublicKey.from_public_bytes(process.record.public_raw)
    envelope = seal(signed, world.attestation(signed.digest), process.record.key_id, public).to_bytes()
    pending = process.judge([envelope], [world.clock.now_ns])
    (entry,) = process.verdicts(pending)
    process.abort(pending)
    return str(entry.reason_code)


def revoked(record: KeyRecord, at_ns: int) -> KeyRecord:
    return replace(record, revoked_ns=at_ns, revocation_reason="laptop stolen")


def rotate_in(world: World, name: str, overlap_s: float) -> tuple[KeyRecord, KeyRecord]:
    """A new key for ``name``'s owner (kept in the world as ``name-new``) and the old key, window closed."""
    old = world.records[name]
    record, private = generate_key(old.owner, old.purpose, world.clock.now_ns)
    record = replace(record, replaces=old.key_id)
    world.records[f"{name}-new"], world.private[f"{name}-new"] = record, private
    closed = replace(old, not_after_ns=world.clock.now_ns + int(overlap_s * SECOND))
    return record, closed


class TestRevocation:
    def test_a_revoked_key_is_refused_by_the_connector_once_the_update_returns(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """Accepted before the revocation, KEY_REVOKED after it: the child learned of it."""
        assert verdict(world, connector) == ReasonCode.ALLOWED.value
        outcome = connector.update_keys([revoked(world.records["alice"], world.clock.now_ns)])
        assert outcome.applied == (world.key_id("alice"),)
        assert verdict(world, connector) == ReasonCode.KEY_REVOKED.value
        assert verdict(world, connector, "bob") == ReasonCode.ALLOWED.value

    def test_a_revocation_holds_whatever_time_the_parent_names(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """Orders judged at a time before the revocation's own time are still refused."""
        connector.update_keys([revoked(world.records["alice"], world.clock.now_ns + 3600 * SECOND)])
        assert verdict(world, connector) == ReasonCode.KEY_REVOKED.value

    def test_the_parent_cannot_un_revoke_a_key_by_message(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """A re-add of a revoked key id is refused whole, and the key stays refused."""
        alice = world.records["alice"]
        connector.update_keys([revoked(alice, world.clock.now_ns)])
        bob_new, _ = rotate_in(world, "bob", 60)
        with pytest.raises(KeyUpdateRefusedError, match="a revocation is final"):
            connector.update_keys([bob_new, alice])
        assert verdict(world, connector) == ReasonCode.KEY_REVOKED.value
        assert (
            verdict(world, connector, "bob", "bob-new") == ReasonCode.SIGNATURE_INVALID.value
        )  # none applied

    def test_a_key_cannot_change_hands_by_message(self, world: World, connector: ConnectorProcess) -> None:
        """The same public key sent again as bob's is refused; it still signs only for alice."""
        with pytest.raises(KeyUpdateRefusedError, match="may not change its owner"):
            connector.update_keys([replace(world.records["alice"], owner="bob")])
        assert verdict(world, connector, "bob", "alice") == ReasonCode.SIGNATURE_INVALID.value

    def test_a_restarted_connector_loads_the_revocation_from_the_parent(self, world: World) -> None:
        """The parent's records carry the revocation into the next child's SETUP: it is never lost."""
        first = started(world)
        alice = revoked(world.records["alice"], world.clock.now_ns)
        try:
            first.update_keys([alice])
        finally:
            first.close()
        world.records["alice"] = alice  # the parent's directory holds what it passed on
        second = started(world)
        try:
            assert verdict(world, second) == ReasonCode.KEY_REVOKED.value
        finally:
            second.close()


@pytest.fixture
def custodian(world: World, tmp_path: Path) -> FileKeyStore:
    """The custodian's public key directory, holding every public record the world starts with."""
    store = FileKeyStore(tmp_path / "custodian", create=True)
    for record in public_records(world):
        store.put(record)
    return store


@pytest.fixture
def custodied(world: World, custodian: FileKeyStore) -> Iterator[ConnectorProcess]:
    """A connector that takes new keys only from the custodian's directory (--key-directory)."""
    process = started(world, reply_timeout_s=20.0, key_directory=custodian.directory)
    yield process
    process.close()


def rotate_at_custodian(world: World, store: FileKeyStore, name: str, overlap_s: float) -> list[KeyRecord]:
    """Rotate ``name``'s key in the custodian's directory; the records the parent then passes on."""
    new, closed = rotate_in(world, name, overlap_s)
    store.put(new)
    store.update(closed)
    return [new, closed]


class TestRotation:
    def test_a_rotated_in_key_is_refused_until_the_connector_learns_of_it(
        self, world: World, custodian: FileKeyStore, custodied: ConnectorProcess
    ) -> None:
        """Unknown to the child before the update; accepted after it (from the custodian's directory)."""
        records = rotate_at_custodian(world, custodian, "alice", 300)
        assert verdict(world, custodied, key="alice-new") == ReasonCode.SIGNATURE_INVALID.value
        custodied.update_keys(records)
        assert verdict(world, custodied, key="alice-new") == ReasonCode.ALLOWED.value

    def test_a_rotated_out_key_is_refused_after_its_overlap_window(
        self, world: World, custodian: FileKeyStore, custodied: ConnectorProcess
    ) -> None:
        """Within the overlap the old key still signs; after it, KEY_EXPIRED; the new key goes on."""
        custodied.update_keys(rotate_at_custodian(world, custodian, "alice", 5))
        assert verdict(world, custodied, key="alice") == ReasonCode.ALLOWED.value
        world.clock.advance(6)
        assert verdict(world, custodied, key="alice") == ReasonCode.KEY_EXPIRED.value
        assert verdict(world, custodied, key="alice-new") == ReasonCode.ALLOWED.value

    def test_a_closed_window_cannot_be_reopened(self, world: World, connector: ConnectorProcess) -> None:
        """After the window closed by message, the old record with its open window again is refused."""
        _, closed = rotate_in(world, "alice", 5)
        connector.update_keys([closed])
        with pytest.raises(KeyUpdateRefusedError, match="it may not reopen"):
            connector.update_keys([world.records["alice"]])
        world.clock.advance(6)
        assert verdict(world, connector, key="alice") == ReasonCode.KEY_EXPIRED.value

    def test_without_a_key_directory_the_parent_cannot_add_a_key(
        self, world: World, connector: ConnectorProcess
    ) -> None:
        """An intruder's new signing key for alice is refused whole, with the window close sent beside it."""
        new, closed = rotate_in(world, "alice", 5)
        with pytest.raises(KeyUpdateRefusedError, match="takes no new keys"):
            connector.update_keys([new, closed])
        assert verdict(world, connector, key="alice-new") == ReasonCode.SIGNATURE_INVALID.value
        world.clock.advance(6)
        assert verdict(world, connector, key="alice") == ReasonCode.ALLOWED.value  # nothing applied


class TestOwnKeyDirectory:
    def test_an_update_rereads_the_custodians_directory_and_ignores_keys_it_lacks(
        self, world: World, tmp_path: Path
    ) -> None:
        """With --key-directory the parent only prompts: new keys come from the custodian's files."""
        store = FileKeyStore(tmp_path / "public", create=True)
        for record in public_records(world):
            if record.owner != "bob":
                store.put(record)
        process = started(world, key_directory=store.directory)
        try:
            assert verdict(world, process, "bob") == ReasonCode.SIGNATURE_INVALID.value
            store.put(world.records["bob"])  # the custodian registers bob's key
            stranger, _ = generate_key("alice", KeyPurpose.ORDER_SIGNING, 0)
            outcome = process.update_keys([stranger])
            assert outcome.ignored == (stranger.key_id,)
            assert world.key_id("bob") in outcome.applied
            assert verdict(world, process, "bob") == ReasonCode.ALLOWED.value
            store.revoke(world.key_id("bob"), world.clock.now_ns, "left the firm")
            process.update_keys([])
            assert verdict(world, process, "bob") == ReasonCode.KEY_REVOKED.value
        finally:
            process.close()

    def test_the_parent_may_still_revoke_what_the_directory_trusts(
        self, world: World, tmp_path: Path
    ) -> None:
        """A revocation only narrows trust, so the connector takes it from the parent too, and keeps it."""
        store = FileKeyStore(tmp_path / "public", create=True)
        for record in public_records(world):
            store.put(record)
        process = started(world, key_directory=store.directory)
        try:
            process.update_keys([revoked(world.records["alice"], world.clock.now_ns)])
            assert verdict(world, process) == ReasonCode.KEY_REVOKED.value
            process.update_keys([])  # the directory's unrevoked record does not undo it
            assert verdict(world, process) == ReasonCode.KEY_REVOKED.value
        finally:
            process.close()
