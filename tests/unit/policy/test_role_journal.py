"""The role directory journals every change and replays the journal over the firm file at start-up."""

from __future__ import annotations

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Role
from orderguard.policy.authorizer import CedarAuthorizer
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.role_journal import InMemoryRoleJournal, RoleChange, RoleChangeKind
from orderguard.policy.sod import conflict_sets


def directory_on(firm: FirmConfig, journal: InMemoryRoleJournal, **kwargs: object) -> RoleDirectory:
    principals = [p.to_domain() for p in firm.principals]
    return RoleDirectory(principals, conflict_sets(), journal=journal, **kwargs)  # type: ignore[arg-type]


class TestJournal:
    def test_changes_are_journalled_in_order_with_who_and_when(self, firm: FirmConfig) -> None:
        """Grant, revoke, suspend and reinstate each append one entry naming actor, time and request."""
        journal = InMemoryRoleJournal()
        directory = directory_on(firm, journal)
        assert directory.grant("ana", Role.CODE_REVIEWER, actor="chris", ts=5, request_id="apr-1").allowed
        directory.revoke("bob", Role.TRADER, actor="sofia", ts=6)
        directory.suspend("tom", actor="sofia", ts=7)
        directory.reinstate("tom", actor="carol", ts=8)
        assert journal.changes() == [
            RoleChange("ana", RoleChangeKind.GRANT, Role.CODE_REVIEWER, "chris", 5, "apr-1"),
            RoleChange("bob", RoleChangeKind.REVOKE, Role.TRADER, "sofia", 6),
            RoleChange("tom", RoleChangeKind.SUSPEND, None, "sofia", 7),
            RoleChange("tom", RoleChangeKind.REINSTATE, None, "carol", 8),
        ]

    def test_a_refused_grant_is_not_journalled(self, firm: FirmConfig) -> None:
        """A grant that breaks a conflict set changes nothing, in memory or in the journal."""
        journal = InMemoryRoleJournal()
        directory = directory_on(firm, journal)
        assert directory.grant("walt", Role.WITHDRAWAL_APPROVER).reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert journal.changes() == []

    def test_a_new_directory_replays_the_journal_over_the_firm_file(self, firm: FirmConfig) -> None:
        """Roles and suspensions come back; Cedar decides on the replayed roles."""
        journal = InMemoryRoleJournal()
        first = directory_on(firm, journal)
        first.grant("ana", Role.COMPLIANCE)
        first.revoke("bob", Role.TRADER)
        first.suspend("tom")
        authorizer = CedarAuthorizer.from_files()
        second = directory_on(firm, journal, authorizer=authorizer)
        assert Role.COMPLIANCE in second.get("ana").roles  # type: ignore[union-attr]
        assert Role.TRADER not in second.get("bob").roles  # type: ignore[union-attr]
        assert second.suspended == {"tom"}
        assert authorizer.evaluate("ana", "read_audit", "AuditLog", {"business_hours": True}).allowed
        suspended = authorizer.evaluate("tom", "read_market_data", "MarketData", {"business_hours": True})
        assert suspended.reason is ReasonCode.PRINCIPAL_SUSPENDED

    def test_changes_for_principals_gone_from_the_firm_file_are_skipped(self, firm: FirmConfig) -> None:
        """A journal entry about someone no longer in the firm file does not resurrect them."""
        journal = InMemoryRoleJournal()
        journal.append(RoleChange("mallory", RoleChangeKind.GRANT, Role.TRADER, "chris", 1))
        directory = directory_on(firm, journal)
        assert directory.get("mallory") is None
