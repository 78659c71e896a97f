"""Operator logs: JSON lines on standard error, never on the command's output."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

from orderguard.observability import configure_logging


class TestConfigureLogging:
    def test_events_are_json_lines_on_stderr(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A logged event is one JSON object on stderr with level and UTC timestamp; stdout stays empty."""
        configure_logging()
        try:
            structlog.get_logger("test").warning("alert", rule="front_running")
            captured = capsys.readouterr()
        finally:
            structlog.reset_defaults()
        assert captured.out == ""
        record = json.loads(captured.err)
        assert record["event"] == "alert"
        assert record["rule"] == "front_running"
        assert record["level"] == "warning"
        assert record["timestamp"].endswith("Z")

    def test_a_replaced_stderr_is_followed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Logging configured before sys.stderr is swapped (test runners, daemons) writes to the new one."""
        configure_logging()
        replacement = io.StringIO()
        monkeypatch.setattr(sys, "stderr", replacement)
        try:
            structlog.get_logger("test").info("second")
        finally:
            structlog.reset_defaults()
        assert json.loads(replacement.getvalue())["event"] == "second"
