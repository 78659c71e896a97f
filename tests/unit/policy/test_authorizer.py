"""The Cedar authorizer: validated at load, decisions carry the deciding policy ids, memo stays correct."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Role
from orderguard.policy.authorizer import POLICY_DIR, CedarAuthorizer, PolicyLoadError
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets

SCHEMA = (POLICY_DIR / "firm.cedarschema").read_text("utf-8")
ORDER = {
    "order": {
        "account_type": "client",
        "owner": {"__entity": {"type": "User", "id": "nobody"}},
        "desk": "equities",
        "venue": "XNYS",
        "venue_approved": True,
    },
    "business_hours": True,
    "large_order": False,
    "quorum_met": False,
}


@pytest.fixture
def authorizer(firm: FirmConfig) -> CedarAuthorizer:
    auth = CedarAuthorizer.from_files()
    RoleDirectory([p.to_domain() for p in firm.principals], conflict_sets(), auth)
    return auth


class TestLoading:
    def test_shipped_policies_validate(self) -> None:
        """The packaged policy set validates against the packaged schema and every policy has an id."""
        auth = CedarAuthorizer.from_files()
        assert "trader-own-desk-orders" in auth.policy_ids.values()
        assert auth.policy_reasons["venue-allowlist"] is ReasonCode.VENUE_NOT_APPROVED

    def test_a_policy_that_does_not_match_the_schema_is_refused(self) -> None:
        """A typo in an attribute is caught at load, naming the policy."""
        bad = '@id("typo")\npermit (principal, action, resource) when { principal.dsk == "x" };'
        with pytest.raises(PolicyLoadError, match="do not validate"):
            CedarAuthorizer(bad, SCHEMA, source="bad.cedar")

    def test_a_policy_without_an_id_is_refused(self) -> None:
        """Every decision must be able to name its policies, so @id is mandatory."""
        with pytest.raises(PolicyLoadError, match="no @id"):
            CedarAuthorizer("permit (principal, action, resource);", SCHEMA)

    def test_an_unknown_reason_annotation_is_refused(self) -> None:
        """@reason must be a stable reason code."""
        text = '@id("x")\n@reason("NOPE")\nforbid (principal, action, resource);'
        with pytest.raises(PolicyLoadError, match="not a reason code"):
            CedarAuthorizer(text, SCHEMA)

    def test_unparsable_text_names_the_source(self) -> None:
        """Syntax errors are reported with the file they came from."""
        with pytest.raises(PolicyLoadError, match=r"mine\.cedar"):
            CedarAuthorizer("permit (", SCHEMA, source="mine.cedar")


class TestDecisions:
    def test_allow_names_the_permitting_policy(self, authorizer: CedarAuthorizer) -> None:
        """alice entering an equities client order is permitted by trader-own-desk-orders."""
        decision = authorizer.authorize("alice", "submit_order", "Order", ORDER)
        assert decision.allowed
        assert decision.policy_ids == ("trader-own-desk-orders",)

    def test_default_deny_names_no_policy(self, authorizer: CedarAuthorizer) -> None:
        """tom (derivatives) on an equities order: nothing permits it."""
        decision = authorizer.authorize("tom", "submit_order", "Order", ORDER)
        assert not decision.allowed
        assert decision.reason is ReasonCode.NOT_AUTHORIZED
        assert decision.policy_ids == ()

    def test_the_most_fundamental_forbid_gives_the_reason(self, authorizer: CedarAuthorizer) -> None:
        """A large order to an unapproved venue reports the venue, and both policies are recorded."""
        context = {**ORDER, "order": {**ORDER["order"], "venue_approved": False}, "large_order": True}  # type: ignore[dict-item]
        decision = authorizer.authorize("alice", "submit_order", "Order", context)
        assert decision.reason is ReasonCode.VENUE_NOT_APPROVED
        assert decision.policy_ids == ("large-order-quorum", "venue-allowlist")

    def test_memo_is_dropped_when_roles_change(self, firm: FirmConfig) -> None:
        """A memoised allow does not survive a suspension."""
        auth = CedarAuthorizer.from_files()
        directory = RoleDirectory([p.to_domain() for p in firm.principals], conflict_sets(), auth)
        assert auth.authorize("alice", "submit_order", "Order", ORDER).allowed
        directory.suspend("alice")
        assert (
            auth.authorize("alice", "submit_order", "Order", ORDER).reason is ReasonCode.PRINCIPAL_SUSPENDED
        )
        directory.reinstate("alice")
        directory.revoke("alice", Role.TRADER)
        assert not auth.authorize("alice", "submit_order", "Order", ORDER).allowed

    def test_memo_agrees_with_cedar(self, authorizer: CedarAuthorizer, firm: FirmConfig) -> None:
        """For every principal and order action, the memoised answer equals a fresh Cedar evaluation."""
        for principal in firm.principals:
            for action in ("submit_order", "view_order", "cancel_order"):
                for hours in (True, False):
                    context = {**ORDER, "business_hours": hours}
                    first = authorizer.authorize(principal.id, action, "Order", context)
                    again = authorizer.authorize(principal.id, action, "Order", context)
                    assert first == again == authorizer.evaluate(principal.id, action, "Order", context)
