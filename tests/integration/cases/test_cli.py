"""The `orderguard alerts` and `orderguard cases` commands on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from orderguard.cli.main import app
from orderguard.surveillance.alerts_out import write_alerts
from tests.cases_support import alert
from tests.conftest import EXAMPLE_FIRM

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestAlertsCommands:
    def test_import_is_idempotent_and_listing_is_for_investigators(
        self, sqlite_url: str, tmp_path: Path
    ) -> None:
        """Importing twice stores once; sofia lists the alert, bob is refused with exit 1."""
        path = tmp_path / "alerts.jsonl"
        write_alerts(path, [alert(), alert(actor="bob", event_ids=("ev-2",))])
        common = ("--db", sqlite_url, "--config", str(EXAMPLE_FIRM))
        code, out, _ = _run("alerts", "import", str(path), *common)
        assert (code, out.strip()) == (0, "2 alert(s) stored, 0 already stored")
        code, out, _ = _run("alerts", "import", str(path), *common)
        assert (code, out.strip()) == (0, "0 alert(s) stored, 2 already stored")
        code, out, _ = _run("alerts", "list", "--as", "sofia", "--queue", "security", *common)
        assert code == 0
        assert {json.loads(line)["actor"] for line in out.splitlines()} == {"alice", "bob"}
        code, out, err = _run("alerts", "list", "--as", "bob", *common)
        assert code == 1
        assert "NOT_AUTHORIZED" in err

    def test_a_bad_line_imports_nothing_and_names_the_place(self, sqlite_url: str, tmp_path: Path) -> None:
        """A line without event_ids is reported with file, line and field, and nothing is stored."""
        path = tmp_path / "alerts.jsonl"
        good = alert().to_record()
        bad = {**alert(event_ids=("ev-3",)).to_record(), "event_ids": []}
        path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
        common = ("--db", sqlite_url, "--config", str(EXAMPLE_FIRM))
        code, _, err = _run("alerts", "import", str(path), *common)
        assert code == 2
        assert f"{path}:2" in err
        assert "event_ids" in err
        code, out, _ = _run("alerts", "list", "--as", "sofia", *common)
        assert (code, out) == (0, "")


class TestCasesCommands:
    def test_cases_list_and_show(self, sqlite_url: str, tmp_path: Path) -> None:
        """sofia sees alice's case with its alert; alice herself is refused her own case."""
        path = tmp_path / "alerts.jsonl"
        write_alerts(path, [alert()])
        common = ("--db", sqlite_url, "--config", str(EXAMPLE_FIRM))
        assert _run("alerts", "import", str(path), *common)[0] == 0
        code, out, _ = _run("cases", "list", "--as", "sofia", *common)
        [case] = [json.loads(line) for line in out.splitlines()]
        assert code == 0
        assert case["subject"] == "alice"
        code, out, _ = _run("cases", "show", case["case_id"], "--as", "sofia", *common)
        assert code == 0
        assert [a["alert_id"] for a in json.loads(out)["alerts"]] == [alert().alert_id]
        assert _run("cases", "show", case["case_id"], "--as", "alice", *common)[0] == 1
        assert _run("cases", "show", "case-nope", "--as", "sofia", *common)[0] == 2
