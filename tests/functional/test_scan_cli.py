"""`orderguard scan` and `orderguard watch` end to end: real files, real processes, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from orderguard.domain.events import Event, EventKind
from tests.conftest import EXAMPLE_FIRM
from tests.unit.surveillance.helpers import Events


def _abuse() -> list[Event]:
    b = Events()
    b.personal(0, "alice", "AAPL", "buy", 10)
    b.order(30, "bob", "O1", "AAPL", side="buy", qty=5000)
    b.execution(40, "O1", "AAPL", "buy", 5000, venue="DARK-X")
    b.personal(60, "bob", "AAPL", "buy", 10)
    b.add(EventKind.DATA_EXPORT, 70, "dana", records=5000)
    return b.events


def _write(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(json.dumps(e.to_record()) + "\n" for e in events), encoding="utf-8")
    return path


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orderguard.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _alerts(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class TestScan:
    def test_scan_writes_alerts_and_exits_one(self, tmp_path: Path) -> None:
        """Abuse in the file gives exit 1, an alerts file in the documented format and a per-rule table."""
        events = _write(tmp_path / "events.jsonl", _abuse())
        out = tmp_path / "alerts.jsonl"
        result = _run("scan", "--config", str(EXAMPLE_FIRM), str(events), "--out", str(out))
        assert result.returncode == 1, result.stderr
        alerts = _alerts(out.read_text())
        assert {a["rule"] for a in alerts} == {
            "front_running",
            "copy_trading",
            "unusual_route",
            "bulk_export",
        }
        assert all(set(a) >= {"alert_id", "ts", "event_ids", "explanation", "action"} for a in alerts)
        assert "front_running" in result.stderr

    def test_scan_and_watch_agree(self, tmp_path: Path) -> None:
        """The batch scan of a file and the stream of the same lines give the same alert records."""
        events = _write(tmp_path / "events.jsonl", _abuse())
        scanned = _run("scan", "--config", str(EXAMPLE_FIRM), str(events))
        watched = _run("watch", "--config", str(EXAMPLE_FIRM), stdin=events.read_text())
        assert watched.returncode == 1, watched.stderr
        key = lambda a: str(a["alert_id"])  # noqa: E731
        assert sorted(_alerts(scanned.stdout), key=key) == sorted(_alerts(watched.stdout), key=key)

    def test_clean_file_exits_zero(self, tmp_path: Path) -> None:
        """A file without abuse exits 0 with an empty alerts file."""
        b = Events()
        b.view(0, "ana", records=3)
        events = _write(tmp_path / "events.jsonl", b.events)
        out = tmp_path / "alerts.jsonl"
        result = _run("scan", "--config", str(EXAMPLE_FIRM), str(events), "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert out.read_text() == ""

    def test_bad_event_names_file_and_line(self, tmp_path: Path) -> None:
        """A bad event is exit 2 naming file, line and field, and no alerts file is written."""
        events = _write(tmp_path / "events.jsonl", _abuse())
        lines = events.read_text().splitlines()
        lines[2] = re.sub(r'"qty": [0-9.]+', '"qty": "lots"', lines[2])
        assert '"lots"' in lines[2]
        events.write_text("\n".join(lines) + "\n")
        out = tmp_path / "alerts.jsonl"
        result = _run("scan", "--config", str(EXAMPLE_FIRM), str(events), "--out", str(out))
        assert result.returncode == 2
        assert "events.jsonl" in result.stderr
        assert "line 3" in result.stderr
        assert "qty" in result.stderr
        assert not out.exists()

    def test_missing_file_and_unknown_rule(self, tmp_path: Path) -> None:
        """A missing events file or an unknown --rule is a usage error (exit 2)."""
        missing = _run("scan", "--config", str(EXAMPLE_FIRM), str(tmp_path / "nope.jsonl"))
        assert missing.returncode == 2
        assert "no such event file" in missing.stderr
        events = _write(tmp_path / "events.jsonl", _abuse())
        unknown = _run("scan", "--config", str(EXAMPLE_FIRM), str(events), "--rule", "insider_magic")
        assert unknown.returncode == 2
        assert "insider_magic" in unknown.stderr


class TestWatch:
    def test_follow_with_snapshot_resumes(self, tmp_path: Path) -> None:
        """Two watch runs over halves of a stream, joined by a snapshot, alert like one run over all."""
        events = _abuse()
        whole = _write(tmp_path / "all.jsonl", events)
        snapshot = tmp_path / "state.bin"
        runs = []
        for part, chunk in enumerate((events[:1], events[1:])):
            feed = _write(tmp_path / f"part{part}.jsonl", chunk)
            runs.append(
                _run(
                    "watch",
                    "--config",
                    str(EXAMPLE_FIRM),
                    "--follow",
                    str(feed),
                    "--idle-exit",
                    "0.3",
                    "--snapshot",
                    str(snapshot),
                )
            )
        assert snapshot.is_file()
        once = _run("watch", "--config", str(EXAMPLE_FIRM), stdin=whole.read_text())
        resumed = [a for run in runs for a in _alerts(run.stdout)]
        assert sorted(map(json.dumps, resumed)) == sorted(map(json.dumps, _alerts(once.stdout)))

    def test_out_of_order_line_is_an_input_error(self, tmp_path: Path) -> None:
        """A line earlier in time than the one before it is exit 2 naming the event."""
        events = _abuse()
        text = "".join(json.dumps(e.to_record()) + "\n" for e in (events[1], events[0]))
        result = _run("watch", "--config", str(EXAMPLE_FIRM), stdin=text)
        assert result.returncode == 2
        assert "e1" in result.stderr
        assert "order" in result.stderr
