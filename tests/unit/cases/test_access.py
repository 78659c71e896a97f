"""Who may read cases and who may investigate whom (decisions only; auditing is tested on the databases)."""

from __future__ import annotations

import tomllib

import pytest

from orderguard.cases.access import CaseAccess
from orderguard.cases.model import BlockedPattern
from orderguard.config import ConfigError, parse_config
from orderguard.domain import AuditEntry, ReasonCode
from tests.cases_support import T0, case_firm
from tests.conftest import EXAMPLE_FIRM


class Entries:
    """An append-only list standing in for the audit log where nothing is appended."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1


def _access() -> CaseAccess:
    return CaseAccess(case_firm(), Entries(), lambda: T0)


class TestDecide:
    def test_only_compliance_and_security_may_read(self) -> None:
        """Traders, developers and approvers are refused; compliance and security are allowed."""
        access = _access()
        assert access.decide("sofia", "alice").allowed
        assert access.decide("carol", "alice").allowed
        for outsider in ("bob", "dana", "olga", "adam", "nobody"):
            assert access.decide(outsider, "alice").reason is ReasonCode.NOT_AUTHORIZED

    def test_the_subject_is_refused_even_as_an_investigator(self) -> None:
        """carol holds compliance but may not read a case about herself."""
        assert not _access().decide("carol", "carol").allowed


class TestConflict:
    def test_same_desk_and_declared_conflicts_are_refused_both_ways(self) -> None:
        """quinn (equities) may not take alice; carol and bob conflict whichever is the subject."""
        access = _access()
        assert access.conflict("quinn", "alice").reason is ReasonCode.CASE_CONFLICT_OF_INTEREST
        assert access.conflict("carol", "bob").reason is ReasonCode.CASE_CONFLICT_OF_INTEREST
        assert access.conflict("quinn", "tom").allowed
        assert access.conflict("carol", "alice").allowed

    def test_a_non_investigator_cannot_be_assigned(self) -> None:
        """olga sits on no conflict but holds no investigator role."""
        assert _access().conflict("olga", "tom").reason is ReasonCode.NOT_AUTHORIZED


class TestBlockedPattern:
    def test_unset_fields_match_anything(self) -> None:
        """A pattern with only a symbol matches every venue and account of that actor and symbol."""
        pattern = BlockedPattern("alice", symbol="AAPL")
        assert pattern.matches("alice", symbol="AAPL", account="C-1", venue="XNYS")
        assert not pattern.matches("alice", symbol="MSFT", account="C-1", venue="XNYS")
        assert not pattern.matches("bob", symbol="AAPL", account="C-1", venue="XNYS")


class TestConflictConfig:
    def test_an_unknown_conflicted_with_id_is_refused_with_its_key_path(self) -> None:
        """A typo in conflicted_with fails loading and names principals[i].conflicted_with[j]."""
        data = tomllib.loads(EXAMPLE_FIRM.read_text())
        data["principals"][9]["conflicted_with"] = ["bobby"]
        with pytest.raises(ConfigError, match=r"principals\[9\]\.conflicted_with\[0\]: 'bobby'"):
            parse_config(data, "firm.toml")
