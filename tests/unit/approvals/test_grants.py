"""Role grants: never for oneself, never conflicting, only after approval."""

from __future__ import annotations

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Role
from tests.controls_support import T0, make_stack


class TestRoleGrants:
    def test_nobody_grants_themselves_a_role(self, firm: FirmConfig) -> None:
        """Even a role administrator cannot grant a role to themselves."""
        s, audit, _ = make_stack(firm)
        decision, request = s.grants.propose("chris", "chris", Role.WITHDRAWAL_APPROVER, T0)
        assert request is None
        assert decision.reason is ReasonCode.SOD_SELF_APPROVAL
        assert audit.last().kind == "role"
        assert audit.last().reason_code == "SOD_SELF_APPROVAL"

    def test_the_target_cannot_approve_their_own_grant(self, firm: FirmConfig) -> None:
        """sofia (security, an eligible role_grant approver) cannot approve a grant to herself."""
        s, _, _ = make_stack(firm)
        _, request = s.grants.propose("chris", "sofia", Role.COMPLIANCE, T0)
        assert request is not None
        decision = s.approvals.approve(request.id, "sofia", request.digest, T0)
        assert decision.reason is ReasonCode.SOD_SELF_APPROVAL

    def test_only_role_administrators_propose(self, firm: FirmConfig) -> None:
        """An admin without role_admin cannot propose grants."""
        s, _, _ = make_stack(firm)
        decision, _ = s.grants.propose("adam", "bob", Role.ANALYST, T0)
        assert decision.reason is ReasonCode.NOT_AUTHORIZED

    def test_a_conflicting_grant_is_refused(self, firm: FirmConfig) -> None:
        """Granting deployer to a developer breaks a conflict set."""
        s, _, _ = make_stack(firm)
        decision, request = s.grants.propose("chris", "dana", Role.DEPLOYER, T0)
        assert request is None
        assert decision.reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert "write-code-deploy" in decision.policy_ids

    def test_an_approved_grant_applies_and_cedar_sees_it(self, firm: FirmConfig) -> None:
        """After approval by security, ana gains support and may read customer data."""
        s, _, _ = make_stack(firm)
        context = {"business_hours": True}
        assert not s.authorizer.authorize("ana", "read_customer_data", "CustomerRecord", context).allowed
        _, request = s.grants.propose("chris", "ana", Role.SUPPORT, T0)
        assert request is not None
        early = s.grants.apply(request.id, actor="chris", target="ana", role=Role.SUPPORT, now=T0)
        assert early.reason is ReasonCode.APPROVAL_REQUIRED
        assert s.approvals.approve(request.id, "sofia", request.digest, T0).allowed
        assert s.grants.apply(request.id, actor="chris", target="ana", role=Role.SUPPORT, now=T0).allowed
        assert Role.SUPPORT in s.directory.get("ana").roles  # type: ignore[union-attr]
        assert s.authorizer.authorize("ana", "read_customer_data", "CustomerRecord", context).allowed

    def test_an_approved_grant_is_refused_if_a_conflict_arose_since(self, firm: FirmConfig) -> None:
        """SoD is checked again when the grant is applied: roles may have changed since approval."""
        s, _, _ = make_stack(firm)
        _, request = s.grants.propose("chris", "kim", Role.DEVELOPER, T0)
        assert request is not None
        s.approvals.approve(request.id, "sofia", request.digest, T0)
        assert s.directory.grant("kim", Role.DEPLOYER).allowed
        applied = s.grants.apply(request.id, actor="chris", target="kim", role=Role.DEVELOPER, now=T0)
        assert applied.reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert Role.DEVELOPER not in s.directory.get("kim").roles  # type: ignore[union-attr]
