"""`orderguard demo`'s first impression: a quiet terminal and a summary whose numbers add up."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner, Result

from orderguard.cli.main import app
from tests.conftest import EXAMPLE_FIRM


def count(output: str, row: str) -> int:
    """The count on the summary row starting with ``row`` (indentation and table borders ignored)."""
    match = re.search(rf"│\s*{re.escape(row)}\s*│\s*([\d,]+)", output)
    assert match is not None, f"no row {row!r} in:\n{output}"
    return int(match.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Result:
    db = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'og.db'}"
    args = ["demo", "--no-serve", "--events", "300", "--db", db, "--config", str(EXAMPLE_FIRM)]
    result = CliRunner().invoke(app, [*args, "--connector", "in-process"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result


class TestDemoSummary:
    def test_no_alert_log_lines_on_the_terminal(self, demo_run: Result) -> None:
        """The firm file's log notifier stays quiet in the demo, and the summary says so."""
        assert '"event": "alert"' not in demo_run.output
        assert '"event": "alert"' not in demo_run.stderr
        assert "log notifier is off in the demo" in demo_run.output

    def test_every_accepted_order_is_accounted_for(self, demo_run: Result) -> None:
        """Accepted = executed + pre-cleared personal trades run at the broker + refused by the connector."""
        out = demo_run.output
        refused = sum(int(n) for n in re.findall(r"refused by the connector: \S+\s*│\s*(\d+)", out))
        at_broker = count(out, "pre-cleared personal trades (run at the employee's broker)")
        assert at_broker > 0
        executed = count(out, "executed (sealed path + venue simulator)")
        assert count(out, "accepted") == executed + at_broker + refused

    def test_events_stored_is_both_days(self, demo_run: Result) -> None:
        """The events row is the day before plus the demo day, each near the 300 asked for."""
        out = demo_run.output
        before = count(out, "the day before (habits for the baselines)")
        day = count(out, "the demo day (with the planted scenarios' events)")
        assert count(out, "events stored") == before + day
        assert before >= 300
        assert day >= 300

    def test_alerts_are_counted_once_across_gate_live_and_batch(self, demo_run: Result) -> None:
        """Every stored alert was raised once: by the gate, live surveillance or the batch scan, and the
        per-rule rows add up to the same total."""
        out = demo_run.output
        by_rule = sum(int(n.replace(",", "")) for n in re.findall(r"alerts: \w+\s*│\s*([\d,]+)", out))
        live = count(out, "raised by live surveillance (events up to the demo's now)")
        assert live > 0
        gate = count(out, "raised by the controls gate at order entry")
        assert by_rule == gate + live + count(out, "added by the batch scan (not already raised)")

    def test_decisions_in_plain_words(self, demo_run: Result) -> None:
        """Granted pre-clearances and allowed views read as words, not as the ALLOWED reason code."""
        assert "ALLOWED" not in demo_run.output
        assert count(demo_run.output, "order views allowed") > 0

    def test_events_help_says_what_it_counts(self) -> None:
        """`demo --help` says --events is per simulated day and that two days are stored."""
        result = CliRunner().invoke(app, ["demo", "--help"], terminal_width=200)
        assert result.exit_code == 0
        text = " ".join(result.output.replace("│", " ").split())
        assert "events generated per simulated day" in text
        assert "stores two days" in text
