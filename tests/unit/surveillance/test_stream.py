"""The stream engine's contract: total order, snapshots that are safe to restore, alert records."""

from __future__ import annotations

import pickle
import re

import pytest

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert, alert_id_for
from orderguard.domain.events import EventKind, parse_ts
from orderguard.surveillance.stream import SNAPSHOT_MAGIC, OutOfOrderEventError, SnapshotError, StreamEngine
from tests.unit.surveillance.helpers import Events


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


class TestStreamEngine:
    def test_refuses_events_out_of_order(self, firm: FirmConfig) -> None:
        """An event earlier than the last one seen is refused with both positions named."""
        b = Events()
        late = b.view(10, "ana")
        early = b.view(5, "ana")
        engine = StreamEngine(firm)
        engine.observe(late)
        with pytest.raises(OutOfOrderEventError, match=r"e2.*not after the previous event"):
            engine.observe(early)

    def test_snapshot_round_trip_keeps_windows(self, firm: FirmConfig) -> None:
        """State restored into a new engine still remembers a personal trade inside the lead window."""
        b = Events()
        b.personal(0, "alice", "AAPL", "buy", 10)
        order = b.order(30, "bob", "O1", "AAPL", side="buy", qty=5000)
        first = StreamEngine(firm)
        first.observe(b.events[0])
        second = StreamEngine(firm)
        second.restore(first.snapshot())
        [alert] = second.observe(order)
        assert alert.rule == "front_running"
        assert second.seen == 2

    def test_snapshot_cannot_name_other_classes(self, firm: FirmConfig) -> None:
        """A tampered snapshot that refers to any callable is refused, never executed."""
        blob = SNAPSHOT_MAGIC + pickle.dumps({"last": None, "seen": 0, "detectors": _Evil()})
        with pytest.raises(SnapshotError, match=r"builtins\.print"):
            StreamEngine(firm).restore(blob)

    def test_snapshot_needs_header(self, firm: FirmConfig) -> None:
        """Bytes without the snapshot header are refused."""
        with pytest.raises(SnapshotError, match="bad header"):
            StreamEngine(firm).restore(b"not a snapshot")

    def test_snapshot_of_other_detectors_is_refused(self, firm: FirmConfig) -> None:
        """A snapshot from an engine with other detectors cannot be restored."""
        blob = StreamEngine(firm, rules=("wash_trading",)).snapshot()
        with pytest.raises(SnapshotError, match="differ"):
            StreamEngine(firm).restore(blob)


class TestAlert:
    def test_id_is_deterministic_and_scoped(self) -> None:
        """The id depends on rule, scope and event ids only, so reruns never duplicate."""
        assert alert_id_for("r", ("a", "b")) == alert_id_for("r", ("a", "b"))
        assert alert_id_for("r", ("a", "b")) != alert_id_for("r", ("a", "b"), "account:X")
        assert alert_id_for("r", ("a", "b")) != alert_id_for("q", ("a", "b"))
        assert re.fullmatch(r"[0-9a-f]{32}", alert_id_for("r", ("a",)))

    def test_record_matches_alert_format(self, firm: FirmConfig) -> None:
        """An alert record carries every field of DESIGN.md with ts in RFC 3339 with nanoseconds."""
        b = Events()
        b.add(EventKind.DATA_EXPORT, 0.000000001, "dana", records=5000)
        engine = StreamEngine(firm)
        [alert] = engine.observe(b.events[0])
        record = alert.to_record()
        assert list(record) == [
            "alert_id",
            "rule",
            "severity",
            "actor",
            "symbol",
            "ts",
            "event_ids",
            "explanation",
            "action",
        ]
        assert record["ts"] == "2026-11-20T15:00:00.000000001Z"
        assert parse_ts(str(record["ts"])) == alert.ts
        assert record["event_ids"] == ["e1"]
        assert isinstance(alert, Alert)
