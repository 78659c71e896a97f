"""``POST /api/v1/surveillance/scan``: who may run it, the time range, counts per rule, automatic
responses effective at once in the API process, and rescans that store nothing twice."""

from __future__ import annotations

from pathlib import Path

from orderguard.domain import parse_ts
from tests.functional.api.scan_world import EVENTS, api_world

SCAN = "/api/v1/surveillance/scan"


class TestSurveillanceScan:
    def test_a_trader_cannot_run_surveillance(self, tmp_path: Path) -> None:
        """alice gets 403 NOT_AUTHORIZED and no alert is stored."""
        with api_world(tmp_path, scan=False) as world:
            refused = world.post("alice", SCAN)
            assert (refused.status_code, refused.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
            assert world.get("sofia", "/api/v1/alerts").json() == []

    def test_scan_stores_alerts_and_suspends_at_once(self, tmp_path: Path) -> None:
        """A full scan counts alerts per rule; front-running (suspend_and_alert) suspends tom for his
        very next request; a second scan finds the same alerts and stores none of them again."""
        with api_world(tmp_path, scan=False) as world:
            assert world.get("tom", "/api/v1/me").status_code == 200
            first = world.post("carol", SCAN)
            assert first.status_code == 200, first.text
            found = first.json()
            assert found["events"] == len(EVENTS)
            assert found["by_rule"]["front_running"] == {"found": 1, "stored": 1}
            assert found["stored"] == found["alerts"] == sum(r["found"] for r in found["by_rule"].values())
            assert found["duplicates"] == 0
            listed = world.get("chris", "/api/v1/alerts").json()  # sofia would not see her own
            assert len(listed) == found["alerts"]
            blocked = world.get("tom", "/api/v1/me")
            assert (blocked.status_code, blocked.json()["error"]["code"]) == (403, "PRINCIPAL_SUSPENDED")
            again = world.post("adam", SCAN).json()
            assert (again["alerts"], again["stored"], again["duplicates"]) == (
                found["alerts"],
                0,
                found["alerts"],
            )
            assert all(r["stored"] == 0 for r in again["by_rule"].values())

    def test_a_time_range_scans_only_its_events(self, tmp_path: Path) -> None:
        """Scanning from midnight UTC on 20 Nov reads only the night's events: alice's alerts, not
        tom's front-run of the afternoon before (so tom stays active)."""
        start = "2026-11-20T00:00:00Z"
        with api_world(tmp_path, scan=False) as world:
            ranged = world.post("sofia", SCAN, json={"start": start})
            assert ranged.status_code == 200, ranged.text
            body = ranged.json()
            assert body["events"] == sum(parse_ts(str(e["ts"])) >= parse_ts(start) for e in EVENTS)
            assert "front_running" not in body["by_rule"]
            assert {"query_volume", "after_hours_access"} <= set(body["by_rule"])
            assert world.get("tom", "/api/v1/me").status_code == 200

    def test_bad_ranges_are_refused_with_the_field(self, tmp_path: Path) -> None:
        """An unparsable instant names its field; an end not after the start is refused; nothing is stored."""
        with api_world(tmp_path, scan=False) as world:
            bad = world.post("sofia", SCAN, json={"start": "yesterday"})
            assert (bad.status_code, bad.json()["error"]["code"]) == (400, "BAD_RANGE")
            assert bad.json()["error"]["message"].startswith("start:")
            backwards = {"start": "2026-11-20T00:00:00Z", "end": "2026-11-19T00:00:00Z"}
            reversed_range = world.post("sofia", SCAN, json=backwards)
            assert (reversed_range.status_code, reversed_range.json()["error"]["code"]) == (400, "BAD_RANGE")
            assert world.get("sofia", "/api/v1/alerts").json() == []
