"""Static separation of duties: conflict sets, the firm loader and the role directory."""

from __future__ import annotations

import tomllib

import pytest

from orderguard.config import ConfigError, FirmConfig, parse_config
from orderguard.domain import Principal, ReasonCode, Role
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import DEFAULT_CONFLICTS, ConflictSet, conflict_sets, violations
from tests.conftest import EXAMPLE_FIRM


def firm_data() -> dict[str, object]:
    return tomllib.loads(EXAMPLE_FIRM.read_text("utf-8"))


class TestConflictSets:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (Role.WITHDRAWAL_INITIATOR, Role.WITHDRAWAL_APPROVER),
            (Role.DEVELOPER, Role.DEPLOYER),
            (Role.KEY_CUSTODIAN, Role.TRADER),
            (Role.TRADER, Role.ORDER_APPROVER),
        ],
    )
    def test_seed_conflicts_are_defaults(self, first: Role, second: Role) -> None:
        """Each seed conflict is caught by the default conflict sets."""
        assert violations({first, second}, DEFAULT_CONFLICTS)
        assert not violations({first}, DEFAULT_CONFLICTS)

    def test_cardinality_counts_roles_held(self) -> None:
        """With cardinality 3, two roles of the set are fine and three are not."""
        triple = ConflictSet("t", frozenset({Role.ADMIN, Role.ANALYST, Role.SUPPORT}), cardinality=3)
        assert not triple.violated_by({Role.ADMIN, Role.ANALYST})
        assert triple.violated_by({Role.ADMIN, Role.ANALYST, Role.SUPPORT}) == triple.roles

    def test_configured_conflicts_extend_the_defaults(self) -> None:
        """controls.sod_conflicts adds sets after the defaults."""
        sets = conflict_sets([(Role.ANALYST, Role.SUPPORT)])
        assert sets[: len(DEFAULT_CONFLICTS)] == DEFAULT_CONFLICTS
        assert violations({Role.ANALYST, Role.SUPPORT}, sets)


class TestFirmLoader:
    def test_the_example_firm_is_clean(self, firm: FirmConfig) -> None:
        """The example firm holds no conflict."""
        assert firm.principals

    def test_a_firm_holding_a_conflict_fails_to_load_naming_it(self) -> None:
        """A key custodian who is also a trader stops the firm file from loading."""
        data = firm_data()
        data["principals"][12]["roles"] = ["key_custodian", "trader"]  # type: ignore[index]
        with pytest.raises(ConfigError) as caught:
            parse_config(data, "firm.toml")
        message = str(caught.value)
        assert "principals[12].roles" in message
        assert "'kim'" in message
        assert "keys-submit-orders" in message

    def test_a_configured_conflict_is_enforced_at_load(self) -> None:
        """A conflict from controls.sod_conflicts is enforced like a default one."""
        data = firm_data()
        data["controls"]["sod_conflicts"] = [["analyst", "support"]]  # type: ignore[index]
        data["principals"][7]["roles"] = ["analyst", "support"]  # type: ignore[index]
        with pytest.raises(ConfigError, match="configured-0"):
            parse_config(data, "firm.toml")

    def test_a_conflict_set_needs_two_roles(self) -> None:
        """A one-role conflict set is a mistake and is reported at its key path."""
        data = firm_data()
        data["controls"]["sod_conflicts"] = [["analyst"]]  # type: ignore[index]
        with pytest.raises(ConfigError, match=r"controls\.sod_conflicts\[0\]"):
            parse_config(data, "firm.toml")


class TestDirectory:
    def test_granting_a_conflicting_role_is_refused(self) -> None:
        """check_grant and grant refuse with SOD_CONFLICTING_ROLES and leave roles unchanged."""
        walt = Principal("walt", "Walt", frozenset({Role.WITHDRAWAL_INITIATOR}))
        directory = RoleDirectory([walt], DEFAULT_CONFLICTS)
        decision = directory.grant("walt", Role.WITHDRAWAL_APPROVER)
        assert decision.reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert directory.get("walt") == walt

    def test_a_principal_already_in_conflict_is_flagged(self) -> None:
        """A directory built from conflicting data refuses that principal everything."""
        both = Principal("x", "X", frozenset({Role.DEVELOPER, Role.DEPLOYER}))
        directory = RoleDirectory([both], DEFAULT_CONFLICTS)
        decision = directory.sod_decision("x")
        assert decision is not None
        assert decision.reason is ReasonCode.SOD_CONFLICTING_ROLES
