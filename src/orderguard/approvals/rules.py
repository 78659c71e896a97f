"""Who approves each sensitive action, how many, and for how long a request stays open."""

from __future__ import annotations

from collections.abc import Mapping

from orderguard.approvals.model import ApprovalRule, SensitiveAction
from orderguard.config import ControlsConfig
from orderguard.domain import Role

A = SensitiveAction


def default_rules(controls: ControlsConfig) -> Mapping[SensitiveAction, ApprovalRule]:
    """The example firm's approval matrix; large-order quorum and TTL come from ``controls``."""
    ttl = controls.approval_ttl_seconds
    return {
        A.LARGE_ORDER: ApprovalRule(
            A.LARGE_ORDER, controls.large_order_quorum, frozenset({Role.ORDER_APPROVER}), ttl
        ),
        A.WITHDRAWAL: ApprovalRule(A.WITHDRAWAL, 1, frozenset({Role.WITHDRAWAL_APPROVER}), ttl),
        A.DEPLOY: ApprovalRule(A.DEPLOY, 2, frozenset({Role.CODE_REVIEWER, Role.DEPLOYER}), ttl),
        A.VENUE_CHANGE: ApprovalRule(A.VENUE_CHANGE, 1, frozenset({Role.COMPLIANCE, Role.SECURITY}), ttl),
        A.ROUTE_CHANGE: ApprovalRule(A.ROUTE_CHANGE, 1, frozenset({Role.COMPLIANCE, Role.SECURITY}), ttl),
        A.KEY_OPERATION: ApprovalRule(
            A.KEY_OPERATION, 1, frozenset({Role.KEY_CUSTODIAN, Role.SECURITY}), ttl
        ),
        A.ROLE_GRANT: ApprovalRule(A.ROLE_GRANT, 1, frozenset({Role.ROLE_ADMIN, Role.SECURITY}), ttl),
        A.AUDIT_ERASURE: ApprovalRule(A.AUDIT_ERASURE, 2, frozenset({Role.COMPLIANCE, Role.SECURITY}), ttl),
        # The investigators, never the subject (content "actor") nor the requester (initiator).
        A.SUSPENSION_LIFT: ApprovalRule(
            A.SUSPENSION_LIFT, 1, frozenset({Role.COMPLIANCE, Role.SECURITY}), ttl
        ),
    }
