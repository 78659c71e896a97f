"""`orderguard deploy check` end to end: a real git repository, approvals in SQLite, the audit log."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import SensitiveAction
from orderguard.approvals.rules import default_rules
from orderguard.approvals.sql_store import SqlApprovalStore
from orderguard.audit.encoding import decode_leaf
from orderguard.audit.store import AuditStore
from orderguard.cli.main import app
from orderguard.config import FirmConfig
from orderguard.deploy.gate import deploy_content
from orderguard.deploy.git import read_range
from orderguard.gateway.stack import build_controls
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.conftest import EXAMPLE_FIRM
from tests.controls_support import T0, Collected, MemoryAuditSink
from tests.deploy_support import commit, make_repo


def check(repo: Path, rev_range: str, db: str) -> tuple[int, str]:
    args = [
        "deploy",
        "check",
        "--repo",
        str(repo),
        "--range",
        rev_range,
        "--db",
        db,
        "--config",
        str(EXAMPLE_FIRM),
    ]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


class TestDeployCheckCommand:
    def test_refused_then_allowed(self, tmp_path: Path, sqlite_url: str, firm: FirmConfig) -> None:
        """Exit 1 with every reason until two owners approve the exact head; then exit 0."""
        upgrade(sqlite_url)
        now = time.time_ns()  # the command judges expiry against the wall clock
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/risk/limits.py": "MAX = 9\n"}, "dana")
        change = read_range(repo, f"{base}..HEAD")
        directory = RoleDirectory([p.to_domain() for p in firm.principals], conflict_sets())
        engine = ApprovalEngine(
            SqlApprovalStore(make_engine(sqlite_url)),
            MemoryAuditSink(),
            directory,
            default_rules(firm.controls),
        )
        _, request = engine.open(
            SensitiveAction.DEPLOY, f"deploy:{change.head}", "dana", deploy_content(repo.name, change), now
        )
        assert request is not None
        code, output = check(repo, f"{base}..HEAD", sqlite_url)
        assert code == 1
        assert "DEPLOY_NOT_APPROVED" in output
        assert "needs 2 approvals" in output
        assert "src/risk/limits.py: needs an owner's approval (@erin)" in output
        assert "recorded in the audit log" in output
        engine.approve(request.id, "devon", request.digest, now)
        engine.approve(request.id, "erin", request.digest, now)
        code, output = check(repo, f"{base}..HEAD", sqlite_url)
        assert code == 0, output
        assert "DEPLOY ALLOWED" in output

    def test_input_errors_exit_2(self, tmp_path: Path, sqlite_url: str) -> None:
        """A bad range, a missing repository or an unmigrated database is a usage error."""
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 5\n"}, "dana")
        upgrade(sqlite_url)
        assert check(repo, "HEAD", sqlite_url)[0] == 2
        assert check(tmp_path / "nope", "a..b", sqlite_url)[0] == 2
        empty = f"sqlite:///{tmp_path / 'empty.db'}"
        code, output = check(repo, f"{base}..HEAD", empty)
        assert code == 2
        assert "orderguard db upgrade" in output


class TestBreakGlassDeploy:
    def test_break_glass_deploys_with_every_overridden_reason(
        self, tmp_path: Path, sqlite_url: str, firm: FirmConfig
    ) -> None:
        """Exit 0 under an active break-glass: the overridden reasons are printed, security is
        notified, and the audit log holds a break_glass deploy entry."""
        upgrade(sqlite_url)
        now = time.time_ns()
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/risk/limits.py": "MAX = 0\n"}, "dana")
        change = read_range(repo, f"{base}..HEAD")
        sinks = Collected()
        stack = build_controls(firm, MemoryAuditSink(), notifications=sinks, events=sinks, engine=sqlite_url)
        _, request = stack.approvals.open(
            SensitiveAction.DEPLOY, f"deploy:{change.head}", "dana", deploy_content(repo.name, change), now
        )
        assert request is not None
        assert stack.break_glass.invoke(request.id, "dana", "risk limits bug halts trading", now).allowed
        code, output = check(repo, f"{base}..HEAD", sqlite_url)
        assert code == 0, output
        assert f"DEPLOY ALLOWED BY BREAK-GLASS ({request.id} by dana" in output
        assert "needs 2 approvals" in output
        assert "NOTIFY sofia: BREAK-GLASS DEPLOY" in output
        engine = make_engine(sqlite_url)
        headers = [decode_leaf(entry[2]).header for entry in AuditStore(engine).iter_entries()]
        engine.dispose()
        assert [(h["kind"], h["action"], h["decision"]) for h in headers] == [
            ("deploy", "break_glass", "allow")
        ]


class TestApprovalsListCommand:
    def test_lists_requests_with_their_quorum(self, sqlite_url: str, firm: FirmConfig) -> None:
        """Pending requests are listed with approvers and quorum; a bad --status is a usage error."""
        upgrade(sqlite_url)
        directory = RoleDirectory([p.to_domain() for p in firm.principals], conflict_sets())
        store = SqlApprovalStore(make_engine(sqlite_url))
        engine = ApprovalEngine(store, MemoryAuditSink(), directory, default_rules(firm.controls))
        _, request = engine.open(SensitiveAction.WITHDRAWAL, "W-9", "walt", {"amount": 10}, T0)
        assert request is not None
        engine.approve(request.id, "olga", request.digest, T0)
        runner = CliRunner()
        listed = runner.invoke(app, ["approvals", "list", "--db", sqlite_url, "--status", "pending"])
        assert listed.exit_code == 0, listed.output
        assert request.id in listed.output
        assert "1/1 [olga]" in listed.output
        assert runner.invoke(app, ["approvals", "list", "--db", sqlite_url, "--status", "odd"]).exit_code == 2
