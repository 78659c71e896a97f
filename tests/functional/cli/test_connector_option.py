"""`--connector process|in-process` on `orderguard demo` and `orderguard serve`."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from orderguard.cli.main import app
from tests.conftest import EXAMPLE_FIRM


def executed(output: str) -> int:
    match = re.search(r"executed \(sealed path \+ venue simulator\)\s*│\s*([\d,]+)", output)
    assert match is not None, output
    return int(match.group(1).replace(",", ""))


class TestConnectorOption:
    def test_the_demo_executes_the_same_orders_with_either_connector(self, tmp_path: Path) -> None:
        """The same simulated day executes the same orders wherever the connector runs."""
        counts = []
        for connector in ("process", "in-process"):
            db = f"sqlite:///{tmp_path / connector}.db"
            args = ["demo", "--no-serve", "--events", "300", "--db", db, "--config", str(EXAMPLE_FIRM)]
            result = CliRunner().invoke(app, [*args, "--connector", connector])
            assert result.exit_code == 0, result.output
            assert "refused by the connector" not in result.output
            counts.append(executed(result.output))
        assert counts[0] > 0
        assert counts[0] == counts[1]

    def test_an_unknown_connector_mode_is_a_usage_error(self, tmp_path: Path) -> None:
        """`--connector elsewhere` exits 2 naming the choices."""
        result = CliRunner().invoke(
            app, ["serve", "--db", f"sqlite:///{tmp_path / 'og.db'}", "--connector", "elsewhere"]
        )
        assert result.exit_code == 2
        assert "in-process" in result.output
