"""An API world surveilled over HTTP: the playbooks' night of alice and tom's front-run, posted to
``/api/v1/events`` and scanned with ``/api/v1/surveillance/scan`` in the API process.

Besides those, sofia of security reads a client account late at night, so an investigator is the
subject of a case too. The firm is the example firm with two changes a firm file can make:
front-running suspends the trader at once (``suspend_and_alert``), and carol is conflicted with
tom (``conflicted_with``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig, parse_config
from tests.conftest import EXAMPLE_FIRM
from tests.functional.api.client import TestClient
from tests.functional.playbooks_api_world import STAFF, front_run_by_tom, night_of_alice, open_context

# sofia (security) reads a client account at 23:40 New York: investigators can be subjects too.
SOFIA_LATE = {
    "event_id": "s-view",
    "ts": "2026-11-20T04:40:00Z",
    "kind": "order_view",
    "actor": "sofia",
    "account": "C-FAMILY-1",
    "records": 1,
}
EVENTS = [*night_of_alice(), *front_run_by_tom(), SOFIA_LATE]


def strict_firm(notifications: dict[str, Any] | None = None) -> FirmConfig:
    """The example firm where front-running suspends at once and carol may not investigate tom."""
    data: dict[str, Any] = tomllib.loads(EXAMPLE_FIRM.read_text("utf-8"))
    if notifications is not None:
        data["notifications"] = notifications
    data.setdefault("detectors", {}).setdefault("front_running", {})["action"] = "suspend_and_alert"
    for principal in data["principals"]:
        if principal["id"] == "carol":
            principal["conflicted_with"] = ["tom"]
    return parse_config(data, "strict example firm")


@dataclass
class ApiWorld:
    ctx: AppContext
    client: TestClient
    auth: dict[str, dict[str, str]]

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.auth[who], **kwargs)

    def post(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.auth[who], **kwargs)

    def case_of(self, subject: str, reader: str = "sofia") -> str:
        cases = self.get(reader, "/api/v1/cases", params={"status": "open"}).json()
        return str(next(c["case_id"] for c in cases if c["subject"] == subject))


@contextmanager
def api_world(folder: Path, *, scan: bool, notifications: dict[str, Any] | None = None) -> Iterator[ApiWorld]:
    """The strict firm on a fresh database with the events stored (and scanned, if ``scan``)."""
    ctx = open_context(strict_firm(notifications), folder)
    auth = {p: {"Authorization": f"Bearer {ctx.tokens.issue(p)}"} for p in STAFF}
    body = "".join(json.dumps(e) + "\n" for e in EVENTS)
    try:
        with TestClient(create_app(ctx)) as client:
            world = ApiWorld(ctx, client, auth)
            ndjson = {**auth["adam"], "content-type": "application/x-ndjson"}
            stored = client.post("/api/v1/events", content=body, headers=ndjson)
            assert stored.status_code == 201, stored.text
            if scan:
                scanned = world.post("sofia", "/api/v1/surveillance/scan")
                assert scanned.status_code == 200, scanned.text
            yield world
    finally:
        ctx.close()
