"""The world the HTTP playbooks run in: the example firm on a real SQLite file, a day of events with
an 11 PM access spree and a front-run, ingested and surveilled over the API.

The ``orderguard`` CLI is still run in its own process where an operator would use it: checking an
exported evidence bundle offline.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from orderguard.app import AppContext, build_app_context, shifted_clock
from orderguard.config import FirmConfig

STAFF = ("adam", "alice", "bob", "carol", "chris", "olga", "sofia", "tom")


def open_context(firm: FirmConfig, folder: Path) -> AppContext:
    """The API's context on ``folder``'s database and audit key, its clock running from 15:30 New
    York on Friday 20 Nov: the afternoon after the night the playbook is about."""
    anchor = dt.datetime.combine(dt.date(2026, 11, 20), dt.time(15, 30), tzinfo=firm.business_hours.zone)
    return build_app_context(
        firm,
        db_url(folder),
        audit_key=folder / "audit.key",
        clock=shifted_clock(int(anchor.timestamp()) * 1_000_000_000),
    )


def db_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'orderguard.db'}"


def orderguard(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``orderguard`` CLI in its own process, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "orderguard.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _event(event_id: str, ts: str, kind: str, actor: str, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "ts": ts, "kind": kind, "actor": actor, **fields}


def night_of_alice() -> list[dict[str, object]]:
    """Bob's client orders fill by day; on Thursday 19 Nov at 23:00 New York (04:00Z on the 20th)
    alice logs in, views 50 client-order records of two accounts, then buys AAPL for herself."""
    client = {"account": "C-PENSION-1", "symbol": "AAPL", "side": "buy", "order_id": "P-1", "venue": "XNYS"}
    hedge = {"account": "C-HEDGE-1", "symbol": "MSFT", "side": "sell", "order_id": "H-1", "venue": "XNYS"}
    day = [
        _event("d-1", "2026-11-19T15:00:00Z", "client_order", "bob", qty=50_000, price=190.0, **client),
        _event("d-1x", "2026-11-19T15:05:00Z", "execution", "bob", qty=50_000, price=190.1, **client),
        _event("d-2", "2026-11-19T15:01:00Z", "client_order", "bob", qty=20_000, price=410.0, **hedge),
        _event("d-2x", "2026-11-19T15:06:00Z", "execution", "bob", qty=20_000, price=409.9, **hedge),
    ]
    night = [_event("n-login", "2026-11-20T03:58:00Z", "login", "alice", ip="10.9.8.7")]
    for i in range(10):
        account = ("C-PENSION-1", "C-HEDGE-1")[i % 2]
        ts = f"2026-11-20T04:{i * 90 // 60:02d}:{i * 90 % 60:02d}Z"
        night.append(_event(f"n-view-{i}", ts, "order_view", "alice", account=account, records=5))
    own = {"account": "PA-alice", "side": "buy"}
    night += [
        _event(
            "n-trade-aapl",
            "2026-11-20T04:30:00Z",
            "personal_trade",
            "alice",
            symbol="AAPL",
            qty=300,
            price=191.0,
            **own,
        ),
        _event(
            "n-trade-tsla",
            "2026-11-20T04:31:40Z",
            "personal_trade",
            "alice",
            symbol="TSLA",
            qty=10,
            price=250.0,
            **own,
        ),
    ]
    return day + night


def front_run_by_tom() -> list[dict[str, object]]:
    """tom buys 100 NVDA for himself at 500.00, 30 s before his client's 20,000 NVDA order, which
    then fills at 500.50 and 500.80."""
    order = {"account": "C-FAMILY-1", "symbol": "NVDA", "side": "buy", "order_id": "CO-7", "venue": "XNYS"}
    return [
        _event(
            "fr-p",
            "2026-11-19T16:00:00Z",
            "personal_trade",
            "tom",
            account="PA-tom",
            symbol="NVDA",
            side="buy",
            qty=100,
            price=500.0,
        ),
        _event("fr-c", "2026-11-19T16:00:30Z", "client_order", "tom", qty=20_000, price=505.0, **order),
        _event("fr-x1", "2026-11-19T16:00:40Z", "execution", "tom", qty=10_000, price=500.5, **order),
        _event("fr-x2", "2026-11-19T16:00:50Z", "execution", "tom", qty=10_000, price=500.8, **order),
    ]
