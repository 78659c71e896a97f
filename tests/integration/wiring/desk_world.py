"""The order desk's test world: an app context on SQLite in business hours, and alice's small buy."""

from __future__ import annotations

from pathlib import Path

from orderguard.app import AppContext, build_app_context, shifted_clock
from orderguard.config import FirmConfig
from orderguard.domain import Side, parse_ts
from orderguard.gateway.orders import OrderTicket

BUSINESS_HOURS = parse_ts("2026-11-20T16:00:00Z")  # 11:00 in New York on a Friday


def desk_context(firm: FirmConfig, tmp_path: Path, *, execute: bool) -> AppContext:
    """An app context on SQLite, its clock in business hours; ``execute``: with the sealed path (connector
    in process)."""
    return build_app_context(
        firm,
        f"sqlite:///{tmp_path / 'orderguard.db'}",
        audit_key=tmp_path / "audit.key",
        execute=execute,
        clock=shifted_clock(BUSINESS_HOURS),
    )


def alice_buy(ctx: AppContext, order_id: str) -> OrderTicket:
    """alice buys 10 AAPL at 190.50 for a client account on XNYS: small, allowed, filled."""
    return OrderTicket(order_id, "alice", "C-PENSION-1", "AAPL", Side.BUY, 10.0, 190.5, "XNYS", ctx.clock())
