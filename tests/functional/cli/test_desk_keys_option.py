"""`--desk-keys signer|in-process` on `orderguard demo` and `orderguard serve`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from orderguard.cli.main import app
from tests.conftest import EXAMPLE_FIRM
from tests.functional.cli.test_connector_option import executed


class TestDeskKeysOption:
    def test_the_demo_executes_the_same_orders_wherever_the_desk_keys_live(self, tmp_path: Path) -> None:
        """The same simulated day executes the same orders with the desk signer process or without it."""
        counts = []
        for desk_keys in ("signer", "in-process"):
            db = f"sqlite:///{tmp_path / desk_keys}.db"
            args = ["demo", "--no-serve", "--events", "300", "--db", db, "--config", str(EXAMPLE_FIRM)]
            result = CliRunner().invoke(app, [*args, "--desk-keys", desk_keys])
            assert result.exit_code == 0, result.output
            assert "refused by the connector" not in result.output
            counts.append(executed(result.output))
        assert counts[0] > 0
        assert counts[0] == counts[1]

    def test_an_unknown_desk_keys_mode_is_a_usage_error(self, tmp_path: Path) -> None:
        """`--desk-keys hsm` exits 2 naming the choices."""
        result = CliRunner().invoke(
            app, ["serve", "--db", f"sqlite:///{tmp_path / 'og.db'}", "--desk-keys", "hsm"]
        )
        assert result.exit_code == 2
        assert "signer" in result.output
