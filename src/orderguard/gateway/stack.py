"""The composition root of the controls: one object wiring every control for a firm.

Callers (the order intake, the API, the CLI, tests, benchmarks) build a ``ControlsStack`` from
the firm file, an audit sink and an approval store, and use its parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderguard.approvals.breakglass import BreakGlass, NotificationSink
from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.grants import RoleGrants
from orderguard.approvals.rules import default_rules
from orderguard.approvals.store import ApprovalStore, InMemoryApprovalStore
from orderguard.config import FirmConfig
from orderguard.domain import AuditSink
from orderguard.gateway.checks import OrderControls
from orderguard.gateway.gate import AlertSink, ControlsGate
from orderguard.gateway.preclearance import PreClearance
from orderguard.gateway.reads import EventSink, OrderViews
from orderguard.gateway.venues import VenueAllowlist
from orderguard.policy.authorizer import CedarAuthorizer
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets


@dataclass(frozen=True, slots=True)
class ControlsStack:
    """Every control of the order path, wired for one firm."""

    config: FirmConfig
    authorizer: CedarAuthorizer
    directory: RoleDirectory
    approvals: ApprovalEngine
    grants: RoleGrants
    break_glass: BreakGlass
    venues: VenueAllowlist
    preclearance: PreClearance
    controls: OrderControls
    gate: ControlsGate
    views: OrderViews


def build_controls(
    config: FirmConfig,
    audit: AuditSink,
    *,
    notifications: NotificationSink,
    events: EventSink,
    alerts: AlertSink | None = None,
    store: ApprovalStore | None = None,
    authorizer: CedarAuthorizer | None = None,
) -> ControlsStack:
    """Wire the controls for ``config``; the shipped Cedar policies unless ``authorizer`` is given."""
    authorizer = authorizer or CedarAuthorizer.from_files()
    directory = RoleDirectory(
        (p.to_domain() for p in config.principals), conflict_sets(config.controls.sod_conflicts), authorizer
    )
    engine = ApprovalEngine(
        store or InMemoryApprovalStore(), audit, directory, default_rules(config.controls)
    )
    venues = VenueAllowlist(config.approved_venues())
    preclearance = PreClearance(config.controls, directory, config.accounts(), audit)
    controls = OrderControls(
        config,
        directory=directory,
        authorizer=authorizer,
        approvals=engine,
        venues=venues,
        preclearance=preclearance,
    )
    return ControlsStack(
        config=config,
        authorizer=authorizer,
        directory=directory,
        approvals=engine,
        grants=RoleGrants(engine),
        break_glass=BreakGlass(engine, notifications, config.controls.break_glass_ttl_seconds),
        venues=venues,
        preclearance=preclearance,
        controls=controls,
        gate=ControlsGate(controls, audit, config, alerts),
        views=OrderViews(controls, audit, events),
    )
