"""A demo world for API and browser tests: the example firm, a small simulated day, passwords, tokens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from orderguard.app import AppContext, build_app_context, shifted_clock
from orderguard.config import FirmConfig
from orderguard.wiring.demo_day import DEMO_DATE, run_demo_day

PASSWORD = "correct horse battery"


def demo_context(firm: FirmConfig, tmp_path: Path, *, day: bool = True) -> AppContext:
    """A context on a fresh SQLite file whose clock runs from 15:30 on the demo day (business hours)."""
    anchor = dt.datetime.combine(DEMO_DATE, dt.time(15, 30), tzinfo=firm.business_hours.zone)
    ctx = build_app_context(
        firm,
        f"sqlite:///{tmp_path / 'orderguard.db'}",
        audit_key=tmp_path / "audit.key",
        clock=shifted_clock(int(anchor.timestamp()) * 1_000_000_000),
    )
    if day:
        run_demo_day(ctx, events=300, seed=3, progress=lambda _m: None)
    for principal in ("carol", "olga", "alice", "bob", "sofia", "chris", "adam"):
        ctx.sessions.set_password(principal, PASSWORD)
    return ctx
