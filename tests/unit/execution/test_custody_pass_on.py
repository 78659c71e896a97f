"""Custody's listeners and its audit entries: a revocation is passed on before it is logged, a new
key only after, with the outcome in a second entry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction
from orderguard.execution import KeyCustody, KeyOperation, KeyPurpose, KeyRecord, generate_key
from tests.execution_support import World
from tests.unit.execution.test_custody import Custody

SIGNING = KeyPurpose.ORDER_SIGNING


class Listening:
    """A listener that notes which audit actions were logged when it was told of each change."""

    def __init__(self, world: World, fail: bool = False) -> None:
        self.world = world
        self.fail = fail
        self.seen: list[tuple[list[str], list[AuditAction]]] = []

    def __call__(self, records: Sequence[KeyRecord]) -> None:
        self.seen.append(([r.key_id for r in records], [e.action for e in self.world.audit.entries]))
        if self.fail:
            raise ValueError("the connector refused the key update")


def attached(custody: Custody, listener: Listening) -> Custody:
    """``custody`` with ``listener`` attached after the bootstrap (its approvers' keys)."""
    principals = {p.id: p.to_domain() for p in custody.world.firm.principals}
    custody.custody = KeyCustody(
        custody.registry, principals, custody.world.audit, custody.world.clock, on_change=[listener]
    )
    return custody


@pytest.fixture
def custody(firm: FirmConfig, tmp_path: Path) -> Custody:
    return Custody(World(firm), tmp_path)


class TestPassOnOrder:
    def test_an_issue_is_audited_before_any_listener_learns_of_it(self, custody: Custody) -> None:
        """The CREATED entry (pending) exists when the listener runs; a second entry says it was done."""
        listener = Listening(custody.world)
        record, _ = attached(custody, listener).issue("alice", SIGNING)
        ((ids, logged),) = listener.seen
        assert ids == [record.key_id]
        assert logged[-1] is AuditAction.CREATED
        created, outcome = custody.world.audit.entries[-2:]
        assert created.after is not None
        assert created.after["passed_on"] == "pending"
        assert (outcome.action, outcome.object_id) == (AuditAction.MODIFIED, record.key_id)
        assert outcome.after == {"operation": "issue", "passed_on": "done"}

    def test_a_rotation_refused_by_a_listener_is_audited_then_recorded_as_failed(
        self, custody: Custody
    ) -> None:
        """The KEY_ROTATED entry precedes the listener; its failure is the second entry, then raised."""
        old, _ = custody.issue("alice", SIGNING)
        listener = Listening(custody.world, fail=True)
        new, _ = generate_key("alice", SIGNING, custody.world.clock.now_ns)
        request = custody.request(
            KeyOperation.ROTATE, "alice", SIGNING, key_id=old.key_id, public_key=new.public_raw
        )
        with pytest.raises(ValueError, match="refused the key update"):
            attached(custody, listener).custody.execute(request, [custody.approval(request)])
        assert listener.seen[0][1][-1] is AuditAction.KEY_ROTATED
        outcome = custody.world.audit.entries[-1]
        assert outcome.action is AuditAction.MODIFIED
        assert outcome.after is not None
        assert str(outcome.after["passed_on"]).startswith("failed: ")
        assert custody.registry.record(new.key_id).owner == "alice"  # the registry keeps it

    def test_a_revocation_is_passed_on_before_it_is_audited(self, custody: Custody) -> None:
        """The listener runs first, so the connector refuses the key before the log says revoked."""
        record, _ = custody.issue("alice", SIGNING)
        listener = Listening(custody.world)
        request = custody.request(KeyOperation.REVOKE, "alice", SIGNING, key_id=record.key_id)
        entries_before = len(custody.world.audit.entries)
        attached(custody, listener).custody.execute(request, [custody.approval(request)])
        ((_, logged),) = listener.seen
        assert len(logged) == entries_before
        revoked = custody.world.audit.entries[-1]
        assert revoked.action is AuditAction.KEY_REVOKED
        assert revoked.after is not None
        assert revoked.after["passed_on"] == "done"
