"""The cases stage as the composition root wires it: its notifiers, and the controls gate's alerts."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from orderguard.config import ConfigError, FirmConfig

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderguard.audit.log import AuditLog
    from orderguard.cases.notify import Notifier
    from orderguard.cases.stack import CasesStack
    from orderguard.domain.alerts import Alert
    from orderguard.gateway.stack import ControlsStack
    from orderguard.storage.events_store import EventStore


class AlertForwarder:
    """The controls gate's alerts (e.g. an unapproved venue) go to the cases stage, wired once both exist."""

    def __init__(self) -> None:
        self.cases: CasesStack | None = None

    def raise_alert(self, alert: Alert) -> None:
        if self.cases is not None:
            self.cases.alerts.raise_alert(alert)


def cases_stage(  # noqa: PLR0917 - wiring helper called once, in build order
    firm: FirmConfig,
    engine: Engine,
    audit: AuditLog,
    events: EventStore,
    controls: ControlsStack,
    notifiers: list[Notifier],
    clock: Callable[[], int],
) -> CasesStack:
    """The cases stage, with suspensions reaching the role directory, lifts going through approvals
    and new alerts sent to ``notifiers``."""
    from orderguard.cases.approvals_bridge import EngineLiftApprovals, StoreReapproval
    from orderguard.cases.stack import build_cases

    return build_cases(
        firm,
        engine,
        audit,
        events=events,
        notifiers=notifiers,
        lift_approvals=EngineLiftApprovals(controls.approvals),
        reapproval=StoreReapproval(controls.approvals.store, audit),
        listeners=[controls.directory],
        clock=clock,
    )


def notifiers_of(firm: FirmConfig, environ: Mapping[str, str] = os.environ) -> list[Notifier]:
    """The notifiers the firm file's ``[notifications]`` asks for; the webhook's HMAC secret is
    read from the environment variable it names (a ConfigError when it is unset or empty)."""
    from orderguard.cases.notify import LogNotifier, WebhookNotifier

    wanted = firm.notifications
    found: list[Notifier] = [LogNotifier()] if wanted.log else []
    if wanted.webhook_url is not None and wanted.webhook_secret_env is not None:
        secret = environ.get(wanted.webhook_secret_env, "")
        if not secret:
            raise ConfigError(
                f"notifications.webhook_secret_env: environment variable {wanted.webhook_secret_env} is "
                "unset or empty; export it with the webhook's HMAC secret before starting orderguard"
            )
        found.append(
            WebhookNotifier(
                wanted.webhook_url,
                secret.encode("utf-8"),
                attempts=wanted.webhook_attempts,
                timeout=wanted.webhook_timeout_seconds,
            )
        )
    return found
