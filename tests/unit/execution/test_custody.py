"""Key custody: approval-gated issue, rotation and revocation; separation of duties; audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, ReasonCode
from orderguard.execution import (
    Approval,
    Context,
    FileKeyStore,
    KeyCustody,
    KeyOperation,
    KeyOperationRefusedError,
    KeyOperationRequest,
    KeyPurpose,
    KeyRecord,
    approve,
    generate_key,
    seal,
    sign_order,
)
from tests.execution_support import SECOND, World

SIGNING = KeyPurpose.ORDER_SIGNING


class Custody:
    """A custody service over a public registry, with Kim (custodian) and Sofia (security) bootstrapped."""

    def __init__(self, world: World, tmp_path: Path) -> None:
        self.world = world
        self.registry = FileKeyStore(tmp_path / "registry", create=True)
        principals = {p.id: p.to_domain() for p in world.firm.principals}
        self.custody = KeyCustody(self.registry, principals, world.audit, world.clock)
        self.approval_keys: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        for person in ("kim", "sofia"):
            record, private = generate_key(person, KeyPurpose.APPROVAL, world.clock.now_ns)
            assert isinstance(private, Ed25519PrivateKey)
            self.custody.bootstrap(person, record.public_raw)
            self.approval_keys[person] = (record.key_id, private)

    def request(
        self, operation: KeyOperation, owner: str, purpose: KeyPurpose, **extra: object
    ) -> KeyOperationRequest:
        fields: dict[str, object] = {
            "operation": operation,
            "requested_by": "kim",
            "owner": owner,
            "purpose": purpose,
            "reason": "test",
            "requested_ns": self.world.clock.now_ns,
        }
        fields.update(extra)
        return KeyOperationRequest(**fields)  # type: ignore[arg-type]

    def issue_request(
        self, owner: str, purpose: KeyPurpose = SIGNING, **extra: object
    ) -> KeyOperationRequest:
        """An ISSUE request for a freshly generated key of ``owner``."""
        record, _ = generate_key(owner, purpose, 1)
        return self.request(KeyOperation.ISSUE, owner, purpose, public_key=record.public_raw, **extra)

    def approval(self, request: KeyOperationRequest, by: str = "sofia") -> Approval:
        key_id, private = self.approval_keys[by]
        return approve(request.digest(), by, key_id, private, Context.KEY_OPERATION_APPROVAL)

    def issue(self, owner: str, purpose: KeyPurpose) -> tuple[KeyRecord, Ed25519PrivateKey]:
        """The owner generates a key locally; custody registers its public half with Sofia's approval."""
        record, private = generate_key(owner, purpose, self.world.clock.now_ns)
        assert isinstance(private, Ed25519PrivateKey)
        request = self.request(KeyOperation.ISSUE, owner, purpose, public_key=record.public_raw)
        return self.custody.execute(request, [self.approval(request)]), private


@pytest.fixture
def custody(firm: FirmConfig, tmp_path: Path) -> Custody:
    return Custody(World(firm), tmp_path)


def refused(custody: Custody, request: KeyOperationRequest, approvals: list[Approval]) -> ReasonCode:
    """Run a request that must be refused; check the refusal was audited; return its reason."""
    before = len(custody.registry.records())
    with pytest.raises(KeyOperationRefusedError) as caught:
        custody.custody.execute(request, approvals)
    entry = custody.world.audit.last
    assert (entry.kind, entry.action, entry.decision) == ("key", AuditAction.REFUSED, "deny")
    assert entry.reason_code == caught.value.decision.reason.value
    assert len(custody.registry.records()) == before
    return caught.value.decision.reason


class TestIssue:
    def test_an_approved_issue_registers_the_public_key_and_is_audited(self, custody: Custody) -> None:
        """Kim requests, Sofia approves: the record is in the registry and the audit log says who and why."""
        record, _ = custody.issue("alice", KeyPurpose.ORDER_SIGNING)
        assert custody.registry.record(record.key_id).owner == "alice"
        assert not (custody.registry.directory / f"{record.key_id}.key").exists()
        entry = custody.world.audit.last
        assert (entry.action, entry.actor, entry.object_id) == (AuditAction.CREATED, "kim", record.key_id)
        assert entry.after is not None
        assert entry.after["approvers"] == ["sofia"]

    def test_an_unapproved_issue_is_refused(self, custody: Custody) -> None:
        """Without a second person's approval nothing is issued."""
        request = custody.issue_request("alice", KeyPurpose.ORDER_SIGNING)
        assert refused(custody, request, []) is ReasonCode.APPROVAL_REQUIRED

    def test_the_requester_cannot_approve_their_own_request(self, custody: Custody) -> None:
        """Kim's approval of Kim's request is a self-approval."""
        request = custody.issue_request("alice", KeyPurpose.ORDER_SIGNING)
        reason = refused(custody, request, [custody.approval(request, by="kim")])
        assert reason is ReasonCode.SOD_SELF_APPROVAL

    def test_an_approval_of_another_request_is_stale(self, custody: Custody) -> None:
        """Sofia's approval of one request does not carry over to another."""
        request, other = custody.issue_request("alice"), custody.issue_request("bob")
        assert refused(custody, request, [custody.approval(other)]) is ReasonCode.APPROVAL_STALE

    def test_a_key_custodian_is_never_issued_an_order_signing_key(self, custody: Custody) -> None:
        """The seed's 'manage keys AND propose transactions' conflict is refused at issuance."""
        request = custody.issue_request("kim", KeyPurpose.ORDER_SIGNING)
        assert refused(custody, request, [custody.approval(request)]) is ReasonCode.SOD_CONFLICTING_ROLES

    def test_only_a_key_custodian_may_request(self, custody: Custody) -> None:
        """Sofia (security) may approve but not request."""
        request = custody.issue_request("alice", requested_by="sofia")
        assert refused(custody, request, [custody.approval(request, by="kim")]) is ReasonCode.NOT_AUTHORIZED

    def test_service_keys_belong_to_services(self, custody: Custody) -> None:
        """A connector key cannot be issued to a person."""
        request = custody.issue_request("alice", KeyPurpose.CONNECTOR)
        assert refused(custody, request, [custody.approval(request)]) is ReasonCode.NOT_AUTHORIZED


class TestBootstrap:
    def test_bootstrap_stops_once_two_key_admins_have_keys(self, custody: Custody) -> None:
        """After Kim and Sofia, a third bootstrap registration needs an approval."""
        record, _ = generate_key("kim", KeyPurpose.APPROVAL, 1)
        with pytest.raises(KeyOperationRefusedError) as caught:
            custody.custody.bootstrap("kim", record.public_raw)
        assert caught.value.decision.reason is ReasonCode.APPROVAL_REQUIRED

    def test_bootstrap_is_for_key_admins_only(self, firm: FirmConfig, tmp_path: Path) -> None:
        """A trader cannot bootstrap an approval key for themselves."""
        world = World(firm)
        registry = FileKeyStore(tmp_path / "r", create=True)
        principals = {p.id: p.to_domain() for p in firm.principals}
        custody = KeyCustody(registry, principals, world.audit, world.clock)
        record, _ = generate_key("alice", KeyPurpose.APPROVAL, 1)
        with pytest.raises(KeyOperationRefusedError):
            custody.bootstrap("alice", record.public_raw)
        assert world.audit.last.reason_code == ReasonCode.NOT_AUTHORIZED.value
        assert registry.records() == []


class TestRotationAndRevocation:
    def _send(self, custody: Custody, key_id: str, private: Ed25519PrivateKey) -> ReasonCode:
        world = custody.world
        for record in custody.registry.records():
            world.directory.add(record)
        signed = sign_order(world.intent(), key_id, private)
        public = world.x25519("connector").public_key()
        envelope = seal(signed, world.attestation(signed.digest), world.key_id("connector"), public)
        return world.connector.handle(envelope.to_bytes()).decision.reason

    def test_rotation_keeps_the_old_key_for_the_overlap_window_only(self, custody: Custody) -> None:
        """After a rotation with a 60 s overlap, the old key signs for 60 s and is refused afterwards."""
        old, old_private = custody.issue("alice", KeyPurpose.ORDER_SIGNING)
        new, new_private = generate_key("alice", KeyPurpose.ORDER_SIGNING, custody.world.clock.now_ns)
        assert isinstance(new_private, Ed25519PrivateKey)
        request = custody.request(
            KeyOperation.ROTATE,
            "alice",
            KeyPurpose.ORDER_SIGNING,
            key_id=old.key_id,
            public_key=new.public_raw,
            overlap_ns=60 * SECOND,
        )
        rotated = custody.custody.execute(request, [custody.approval(request)])
        assert rotated.replaces == old.key_id
        assert custody.world.audit.last.action is AuditAction.KEY_ROTATED
        assert self._send(custody, old.key_id, old_private) is ReasonCode.ALLOWED
        custody.world.clock.advance(61)
        assert self._send(custody, old.key_id, old_private) is ReasonCode.KEY_EXPIRED
        assert self._send(custody, rotated.key_id, new_private) is ReasonCode.ALLOWED

    def test_revocation_stops_a_key_at_once(self, custody: Custody) -> None:
        """A revoked key's orders are refused with KEY_REVOKED, and the revocation is audited."""
        record, private = custody.issue("alice", KeyPurpose.ORDER_SIGNING)
        request = custody.request(KeyOperation.REVOKE, "alice", SIGNING, key_id=record.key_id)
        custody.custody.execute(request, [custody.approval(request)])
        assert custody.world.audit.last.action is AuditAction.KEY_REVOKED
        custody.world.clock.advance(1)
        assert self._send(custody, record.key_id, private) is ReasonCode.KEY_REVOKED

    def test_rotating_someone_elses_key_is_refused(self, custody: Custody) -> None:
        """A rotation must name the owner and purpose of the key it replaces."""
        record, _ = custody.issue("alice", KeyPurpose.ORDER_SIGNING)
        new, _ = generate_key("bob", KeyPurpose.ORDER_SIGNING, 1)
        request = custody.request(
            KeyOperation.ROTATE, "bob", SIGNING, key_id=record.key_id, public_key=new.public_raw
        )
        assert refused(custody, request, [custody.approval(request)]) is ReasonCode.NOT_AUTHORIZED
