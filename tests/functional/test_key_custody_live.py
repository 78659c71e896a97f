"""Key custody on a running server: a second person's approved revocation or rotation reaches the
connector process before it is audited as done; real child, real SQLite audit log, verified."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode, Side
from orderguard.execution import (
    Approval,
    Context,
    FileKeyStore,
    KeyCustody,
    KeyOperation,
    KeyOperationRequest,
    KeyPurpose,
    KeyRecord,
    approve,
    generate_key,
)
from orderguard.execution.key_updates import KeyUpdateRefusedError
from orderguard.gateway.orders import OrderTicket
from tests.execution_support import Clock
from tests.functional.test_connector_process import Logged

ALLOW = Decision.allow("controls passed", ("policy.default",))


class LiveCustody:
    """Custody over a registry holding the running path's public keys, its changes passed to the path."""

    def __init__(self, logged: Logged, firm: FirmConfig, registry: FileKeyStore) -> None:
        self.logged = logged
        self.registry_path = registry.directory
        self.clock = Clock()
        for record in logged.path.directory.records():
            registry.put(record)
        principals = {p.id: p.to_domain() for p in firm.principals}
        self.custody = KeyCustody(registry, principals, logged.log, self.clock, on_change=[self._pass_on])
        self.attached = False  # the approvers' keys are bootstrapped before the connector listens
        self.sofia: tuple[str, Ed25519PrivateKey] = ("", Ed25519PrivateKey.generate())
        for person in ("kim", "sofia"):
            record, private = generate_key(person, KeyPurpose.APPROVAL, self.clock.now_ns)
            assert isinstance(private, Ed25519PrivateKey)
            self.custody.bootstrap(person, record.public_raw)
            if person == "sofia":
                self.sofia = (record.key_id, private)
        self.attached = True

    def _pass_on(self, records: Sequence[KeyRecord]) -> None:
        if self.attached:
            self.logged.path.apply_key_records(records)

    def key_of(self, owner: str) -> KeyRecord:
        return next(
            r
            for r in self.logged.path.directory.records()
            if r.owner == owner and r.purpose is KeyPurpose.ORDER_SIGNING
        )

    def approved(self, operation: KeyOperation, owner: str, **extra: object) -> KeyRecord:
        request = KeyOperationRequest(
            operation,
            "kim",
            owner,
            KeyPurpose.ORDER_SIGNING,
            "test",
            self.clock.now_ns,
            **extra,  # type: ignore[arg-type]
        )
        approval: Approval = approve(request.digest(), "sofia", *self.sofia, Context.KEY_OPERATION_APPROVAL)
        return self.custody.execute(request, [approval])

    def order(self, n: int, actor: str = "alice") -> str:
        ticket = OrderTicket(
            f"K-{n}", actor, "C-HEDGE-1", "AAPL", Side.BUY, 10, 190.5, "XNYS", self.clock.now_ns
        )
        return self.logged.path.execute(ticket, ALLOW).decision.reason.value


@pytest.fixture
def logged(firm: FirmConfig, sqlite_url: str) -> Iterator[Logged]:
    world = Logged(firm, sqlite_url)
    yield world
    world.path.close()
    world.log.close()


@pytest.fixture
def live(logged: Logged, firm: FirmConfig, tmp_path: Path) -> LiveCustody:
    return LiveCustody(logged, firm, FileKeyStore(tmp_path / "registry", create=True))


def key_entries(logged: Logged) -> Sequence[dict[str, object]]:
    return [e for e in logged.entries() if e["kind"] == "key"]


class TestLiveCustody:
    def test_an_approved_revocation_stops_the_key_at_the_connector_and_is_audited(
        self, live: LiveCustody, logged: Logged
    ) -> None:
        """After custody returns, the connector refuses alice's orders (KEY_REVOKED), never fills them."""
        assert live.order(1) == ReasonCode.ALLOWED.value
        alice = live.key_of("alice")
        live.approved(KeyOperation.REVOKE, "alice", key_id=alice.key_id)
        assert live.order(2) == ReasonCode.KEY_REVOKED.value
        assert live.order(3, "bob") == ReasonCode.ALLOWED.value
        (revocation,) = [e for e in key_entries(logged) if e["action"] == "key_revoked"]
        after = revocation["after"]
        assert isinstance(after, dict)
        assert after["passed_on"] == "done"
        logged.verify()

    def test_an_approved_rotation_is_audited_before_a_connector_without_key_directory_refuses_it(
        self, live: LiveCustody, logged: Logged
    ) -> None:
        """The rotation is logged first (pending); the child, lacking the custodian's directory, takes no
        new key from the parent, so a second entry records the failure and the change waits for a restart."""
        alice = live.key_of("alice")
        new, _ = generate_key("alice", KeyPurpose.ORDER_SIGNING, 0)
        live.clock.advance(1)
        with pytest.raises(KeyUpdateRefusedError, match="takes no new keys"):
            live.approved(KeyOperation.ROTATE, "alice", key_id=alice.key_id, public_key=new.public_raw)
        entries = key_entries(logged)
        rotated = next(i for i, e in enumerate(entries) if e["action"] == "key_rotated")
        outcome = entries[rotated + 1]
        assert entries[rotated]["after"]["passed_on"] == "pending"  # type: ignore[index]
        assert (outcome["action"], outcome["object_id"]) == ("modified", new.key_id)
        assert str(outcome["after"]["passed_on"]).startswith("failed: ")  # type: ignore[index]
        assert new.key_id in {r.key_id for r in FileKeyStore(live.registry_path).records()}
        assert new.key_id not in {r.key_id for r in logged.path.directory.records()}
        logged.verify()

    def test_the_path_cannot_reopen_a_closed_window(self, live: LiveCustody, logged: Logged) -> None:
        """A window closed by message stays closed: orders under it are refused, and no update reopens it."""
        alice = live.key_of("alice")
        logged.path.apply_key_records([replace(alice, not_after_ns=live.clock.now_ns)])
        live.clock.advance(1)
        assert live.order(4) == ReasonCode.KEY_EXPIRED.value
        with pytest.raises(ValueError, match="it may not reopen"):
            logged.path.apply_key_records([replace(alice, not_after_ns=None)])
        logged.verify()

    def test_a_revocation_the_connector_could_not_learn_is_kept_and_audited_as_such(
        self, live: LiveCustody, logged: Logged
    ) -> None:
        """Connector gone: the revocation stands in the registry, and its entry says it was not passed on."""
        process = logged.path.connector_process
        assert process is not None
        process.close()
        alice = live.key_of("alice")
        with pytest.raises(Exception, match="was shut down"):
            live.approved(KeyOperation.REVOKE, "alice", key_id=alice.key_id)
        (entry,) = [e for e in key_entries(logged) if e["action"] == "key_revoked"]
        after = entry["after"]
        assert isinstance(after, dict)
        assert str(after["passed_on"]).startswith("failed: ")
        assert live.order(5) == ReasonCode.CONNECTOR_UNAVAILABLE.value
        logged.verify()
