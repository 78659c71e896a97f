"""End to end through the CLI: orderguard sim writes a day, orderguard events validate checks files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderguard.cli.main import app
from orderguard.config import load_config
from tests.conftest import EXAMPLE_FIRM

runner = CliRunner()


def _sim(out: Path, fmt: str = "parquet", events: int = 3_000, seed: int = 4) -> Path:
    args = ["sim", "--events", str(events), "--seed", str(seed), "--date", "2026-11-20"]
    result = runner.invoke(app, [*args, "--config", str(EXAMPLE_FIRM), "--out", str(out), "--format", fmt])
    assert result.exit_code == 0, result.output
    return out / f"events.{fmt}"


class TestSim:
    @pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
    def test_writes_events_and_a_loadable_firm(self, tmp_path: Path, fmt: str) -> None:
        """sim writes DIR/events.<ext> and DIR/firm.toml, which load_config accepts."""
        events = _sim(tmp_path, fmt)
        assert events.is_file()
        firm = load_config(tmp_path / "firm.toml")
        assert len(firm.principals) > len(load_config(EXAMPLE_FIRM).principals)

    def test_same_arguments_same_bytes(self, tmp_path: Path) -> None:
        """Two runs with the same arguments write byte-identical events and firm files."""
        a, b = _sim(tmp_path / "a", "jsonl"), _sim(tmp_path / "b", "jsonl")
        assert a.read_bytes() == b.read_bytes()
        assert (tmp_path / "a" / "firm.toml").read_bytes() == (tmp_path / "b" / "firm.toml").read_bytes()

    def test_bad_date_is_a_usage_error(self, tmp_path: Path) -> None:
        """A malformed or non-business date exits 2 with a message."""
        for date in ("2026-13-01", "2026-11-22"):
            result = runner.invoke(app, ["sim", "--events", "1000", "--date", date, "--out", str(tmp_path)])
            assert result.exit_code == 2


class TestValidate:
    def test_valid_file_exits_0_with_counts(self, tmp_path: Path) -> None:
        """A valid file exits 0 and its counts per kind are printed."""
        events = _sim(tmp_path)
        result = runner.invoke(app, ["events", "validate", str(events)])
        assert result.exit_code == 0, result.output
        assert "client_order" in result.output
        assert "900" in result.output
        assert "valid" in result.output

    def test_invalid_file_exits_1_with_errors(self, tmp_path: Path) -> None:
        """A file with a bad line exits 1 and prints the error with line and field."""
        lines = _sim(tmp_path, "jsonl").read_text().splitlines()
        record = json.loads(lines[4])
        record["ts"] = "2026-11-20T09:30:00+02:00"
        lines[4] = json.dumps(record)
        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join(lines) + "\n")
        result = runner.invoke(app, ["events", "validate", str(bad)], terminal_width=400)
        assert result.exit_code == 1
        assert "line 5: field 'ts'" in result.output
        assert "convert to UTC" in result.output

    def test_missing_file_exits_2(self, tmp_path: Path) -> None:
        """A missing file is a usage error (exit 2)."""
        result = runner.invoke(app, ["events", "validate", str(tmp_path / "nope.parquet")])
        assert result.exit_code == 2

    def test_subprocess_entry_point(self, tmp_path: Path) -> None:
        """The installed console script validates a file (exit 0)."""
        import subprocess
        import sys

        events = _sim(tmp_path)
        script = Path(sys.executable).parent / "orderguard"
        done = subprocess.run(
            [str(script), "events", "validate", str(events)], capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr
