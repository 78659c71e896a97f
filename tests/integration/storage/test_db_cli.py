"""`orderguard db upgrade` and `orderguard db info` on both backends, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderguard.cli.main import app
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from tests.integration.storage.event_batches import event_batch

runner = CliRunner()


class TestDbUpgrade:
    def test_upgrade_then_info(self, db_url: str) -> None:
        """upgrade migrates a fresh database; info then shows the backend, revisions and row counts."""
        first = runner.invoke(app, ["db", "upgrade", "--db", db_url])
        assert first.exit_code == 0, first.output
        assert "up to date at" in first.stdout
        assert "0001_events" in first.stdout
        again = runner.invoke(app, ["db", "upgrade", "--db", db_url])
        assert again.exit_code == 0, again.output
        engine = make_engine(db_url)
        EventStore(engine).append_batch(event_batch(3))
        engine.dispose()
        info = runner.invoke(app, ["db", "info", "--db", db_url])
        assert info.exit_code == 0, info.output
        backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
        assert f"backend   {backend}" in info.stdout
        assert "0001_events" in info.stdout
        assert any(line.split()[1:3] == ["events", "3"] for line in info.stdout.splitlines())

    def test_database_url_from_environment(self, sqlite_url: str) -> None:
        """Without --db the URL comes from ORDERGUARD_DB."""
        result = runner.invoke(app, ["db", "upgrade"], env={"ORDERGUARD_DB": sqlite_url})
        assert result.exit_code == 0, result.output
        assert Path(sqlite_url.removeprefix("sqlite:///")).exists()


class TestDbInfoErrors:
    def test_missing_sqlite_file_is_an_input_error(self, tmp_path: Path) -> None:
        """info on a SQLite path that does not exist exits 2, names the file and does not create it."""
        path = tmp_path / "absent.db"
        result = runner.invoke(app, ["db", "info", "--db", f"sqlite:///{path}"])
        assert result.exit_code == 2
        assert str(path) in result.stderr
        assert "orderguard db upgrade" in result.stderr
        assert not path.exists()

    def test_unmigrated_database_reports_pending(self, db_url: str) -> None:
        """info on an empty database exits 1 and says which migrations are pending and how to apply them."""
        engine = make_engine(db_url)
        engine.connect().close()  # creates the SQLite file, leaves it empty
        engine.dispose()
        result = runner.invoke(app, ["db", "info", "--db", db_url])
        assert result.exit_code == 1
        assert "not migrated" in result.stdout
        assert "pending" in result.stderr
        assert "0001_events" in result.stderr

    @pytest.mark.parametrize("url", ["mysql://db/x", "nonsense"])
    def test_unsupported_url_is_an_input_error(self, url: str) -> None:
        """A URL for an unsupported backend, or no URL at all, exits 2 with a hint."""
        result = runner.invoke(app, ["db", "upgrade", "--db", url])
        assert result.exit_code == 2
        assert "error:" in result.stderr
