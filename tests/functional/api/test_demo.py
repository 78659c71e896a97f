"""`orderguard demo --no-serve`: the whole pipeline on a fresh SQLite file, twice (the second run resets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderguard.audit.keys import KEY_ENV, KeySet, NoteSigner, load_signer
from orderguard.audit.store import AuditStore
from orderguard.audit.verify import verify_log
from orderguard.cli.demo import demo_key_path
from orderguard.cli.main import app
from orderguard.storage import make_engine
from orderguard.storage.events_store import EventStore
from tests.conftest import EXAMPLE_FIRM


class TestDemo:
    def test_demo_runs_and_reruns_cleanly(self, tmp_path: Path) -> None:
        """Each run prints the summary, and a second run starts from an empty database, not on top."""
        db = f"sqlite:///{tmp_path / 'orderguard.db'}"
        runner = CliRunner()
        args = ["demo", "--no-serve", "--events", "300", "--db", db, "--config", str(EXAMPLE_FIRM)]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        for line in ("orders through the controls gate", "alerts: front_running", "cases opened"):
            assert line in first.output
        engine = make_engine(db)
        events_after_first = EventStore(engine).count()
        engine.dispose()
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        engine = make_engine(db)
        assert EventStore(engine).count() == events_after_first
        signer = load_signer(tmp_path / "orderguard.db.audit-key")
        assert signer is not None
        report = verify_log(engine, KeySet([signer.verifier]))
        engine.dispose()
        assert report.ok, report.findings
        assert report.checkpoints_verified >= 1

    def test_bad_firm_file_is_a_usage_error(self, tmp_path: Path) -> None:
        """A firm file that does not exist exits 2 with a message naming it."""
        missing = tmp_path / "nope.toml"
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--config", str(missing)])
        assert result.exit_code == 2
        assert "nope.toml" in result.output


@pytest.mark.postgres
class TestDemoOnPostgres:
    def test_second_run_resets_cleanly(self, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """On PostgreSQL, a second demo run drops the first run's tables and starts again: same
        events, and the audit log (signed with the key from the environment) verifies."""
        signer = NoteSigner.generate("demo-pg-test")
        monkeypatch.setenv(KEY_ENV, signer.skey())
        runner = CliRunner()
        args = ["demo", "--no-serve", "--events", "300", "--db", postgres_url, "--config", str(EXAMPLE_FIRM)]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "cases opened" in first.output
        engine = make_engine(postgres_url)
        events_after_first = EventStore(engine).count()
        audit_after_first = AuditStore(engine).index_bound()
        engine.dispose()
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        engine = make_engine(postgres_url)
        try:
            assert EventStore(engine).count() == events_after_first
            assert AuditStore(engine).index_bound() == pytest.approx(audit_after_first, rel=0.05)
            report = verify_log(engine, KeySet([signer.verifier]))
        finally:
            engine.dispose()
        assert report.ok, report.findings
        assert report.checkpoints_verified >= 1


class TestDemoKey:
    def test_key_beside_sqlite_file_or_in_working_dir(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The signing key goes beside a SQLite file, else to ./orderguard-demo.audit-key, and
        nowhere when the environment holds it."""
        monkeypatch.delenv(KEY_ENV, raising=False)
        assert demo_key_path("sqlite:///var/og/x.db") == Path("var/og/x.db.audit-key")
        assert demo_key_path("postgresql+psycopg://h/db") == Path("orderguard-demo.audit-key")
        monkeypatch.setenv(KEY_ENV, NoteSigner.generate("t").skey())
        assert demo_key_path("postgresql+psycopg://h/db") is None
