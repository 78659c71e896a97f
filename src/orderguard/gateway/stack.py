"""The composition root of the controls: one object wiring every control for a firm.

Callers (the order intake, the API, the CLI, tests, benchmarks) build a ``ControlsStack`` from
the firm file and an audit sink, and use its parts. Given a database (``engine=`` an Engine or
URL of a migrated database), every piece of control state a restart must keep lives there:
approval requests and break-glass reviews, the role and venue journals, pre-clearance requests,
the blackout book, the holding-period positions and the reference prices. Without one, it is all
in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orderguard.approvals.breakglass import BreakGlass, NotificationSink
from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.grants import RoleGrants
from orderguard.approvals.rules import default_rules
from orderguard.approvals.sql_store import SqlApprovalStore
from orderguard.approvals.store import ApprovalStore, InMemoryApprovalStore
from orderguard.config import FirmConfig
from orderguard.domain import AuditSink
from orderguard.gateway.checks import OrderControls
from orderguard.gateway.gate import AlertSink, ControlsGate
from orderguard.gateway.preclearance import PreClearance
from orderguard.gateway.preclearance_store import PreClearanceStore
from orderguard.gateway.reads import EventSink, OrderViews
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.gateway.sql_state import SqlPreClearanceStore, SqlVenueJournal
from orderguard.gateway.venue_journal import VenueJournal
from orderguard.gateway.venues import VenueAllowlist
from orderguard.policy.authorizer import CedarAuthorizer
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.role_journal import RoleJournal
from orderguard.policy.sod import conflict_sets
from orderguard.policy.sql_role_journal import SqlRoleJournal

if TYPE_CHECKING:
    from sqlalchemy import Engine

STATE_TABLES = (
    "approval_requests",
    "role_changes",
    "venue_changes",
    "preclearance_requests",
    "blackout_orders",
    "reference_prices",
)


class ControlsStateError(Exception):
    """The database given for the controls state cannot hold it (not migrated); names the fix."""


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
    engine: Engine | str | None = None,
) -> ControlsStack:
    """Wire the controls for ``config``; the shipped Cedar policies unless ``authorizer`` is given.

    With ``engine`` (an Engine or URL of a database migrated with ``orderguard db upgrade``) the
    control state is kept there (SQL stores); ``store`` still overrides the approval store.
    """
    authorizer = authorizer or CedarAuthorizer.from_files()
    role_journal: RoleJournal | None = None
    venue_journal: VenueJournal | None = None
    preclearance_store: PreClearanceStore | None = None
    reference_store: SqlReferenceStore | None = None
    if engine is not None:
        db = _state_engine(engine)
        store = store or SqlApprovalStore(db)
        role_journal, venue_journal = SqlRoleJournal(db), SqlVenueJournal(db)
        preclearance_store = SqlPreClearanceStore(db)
        reference_store = SqlReferenceStore(db)
    directory = RoleDirectory(
        (p.to_domain() for p in config.principals),
        conflict_sets(config.controls.sod_conflicts),
        authorizer,
        journal=role_journal,
    )
    approvals = ApprovalEngine(
        store or InMemoryApprovalStore(), audit, directory, default_rules(config.controls)
    )
    venues = VenueAllowlist(config.approved_venues(), journal=venue_journal)
    preclearance = PreClearance(
        config.controls, directory, config.accounts(), audit, store=preclearance_store
    )
    controls = OrderControls(
        config,
        directory=directory,
        authorizer=authorizer,
        approvals=approvals,
        venues=venues,
        preclearance=preclearance,
        reference_store=reference_store,
    )
    return ControlsStack(
        config=config,
        authorizer=authorizer,
        directory=directory,
        approvals=approvals,
        grants=RoleGrants(approvals),
        break_glass=BreakGlass(
            approvals, notifications, config.controls.break_glass_ttl_seconds, alerts=alerts
        ),
        venues=venues,
        preclearance=preclearance,
        controls=controls,
        gate=ControlsGate(controls, audit, config, alerts),
        views=OrderViews(controls, audit, events),
    )


def _state_engine(engine: Engine | str) -> Engine:
    """The engine for ``engine`` (built from a URL if need be), checked to hold the controls tables."""
    from sqlalchemy import inspect

    from orderguard.storage import make_engine

    db = make_engine(engine) if isinstance(engine, str) else engine
    present = set(inspect(db).get_table_names())
    missing = [t for t in STATE_TABLES if t not in present]
    if missing:
        raise ControlsStateError(
            f"{db.url.render_as_string(hide_password=True)}: no controls state tables "
            f"({', '.join(missing)}); run `orderguard db upgrade --db URL` first"
        )
    return db
