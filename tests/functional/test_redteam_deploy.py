"""Red team, deploys: a developer tries to ship code they wrote with only their own say-so.

Git identities are self-asserted. Before this suite, a developer who also reviews code could commit
under an invented identity, or under a colleague's name, and then count as an independent approver
of their own change. The gate now requires every commit author to be a principal and treats known
committers as writers too. Through ``orderguard deploy check`` on a real repository and SQLite.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from typer.testing import CliRunner

from orderguard.approvals.model import SensitiveAction
from orderguard.cli.main import app
from orderguard.config import FirmConfig
from orderguard.deploy.gate import deploy_content
from orderguard.deploy.git import read_range
from orderguard.gateway.stack import build_controls
from orderguard.storage.migrate import upgrade
from tests.conftest import EXAMPLE_FIRM
from tests.controls_support import Collected, MemoryAuditSink
from tests.deploy_support import make_repo
from tests.functional.web.support import audit_entries


def commit_as(
    repo: Path, path: str, text: str, *, author: tuple[str, str], committer: tuple[str, str]
) -> None:
    """A commit whose author and committer identities are whatever the writer claims."""
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text, "utf-8")
    env = {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    for args in (["add", path], ["commit", "-q", "-m", "change"]):
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def approved_by(
    firm: FirmConfig, url: str, repo: Path, base: str, *, approvers: tuple[str, ...], initiator: str
) -> None:
    """A DEPLOY request for ``base..HEAD`` opened by ``initiator`` and approved by ``approvers`` (in SQL)."""
    now = time.time_ns()  # the command judges expiry against the wall clock
    change = read_range(repo, f"{base}..HEAD")
    sinks = Collected()
    stack = build_controls(firm, MemoryAuditSink(), notifications=sinks, events=sinks, engine=url)
    _, request = stack.approvals.open(
        SensitiveAction.DEPLOY, f"deploy:{change.head}", initiator, deploy_content(repo.name, change), now
    )
    assert request is not None
    for who in approvers:
        assert stack.approvals.approve(request.id, who, request.digest, now).allowed, who


def deploy_check(repo: Path, base: str, url: str) -> tuple[int, str]:
    args = ["deploy", "check", "--repo", str(repo), "--range", f"{base}..HEAD", "--db", url]
    result = CliRunner().invoke(app, [*args, "--config", str(EXAMPLE_FIRM)])
    return result.exit_code, result.output


class TestSelfAssertedIdentities:
    def test_code_under_an_invented_identity_cannot_deploy(
        self, tmp_path: Path, sqlite_url: str, firm: FirmConfig
    ) -> None:
        """Devon commits as 'Ghost' and approves with erin: refused (exit 1), the unknown author named."""
        upgrade(sqlite_url)
        repo, base = make_repo(tmp_path)
        ghost = ("Ghost", "ghost@elsewhere.example")
        commit_as(repo, "src/app.py", "steal = True\n", author=ghost, committer=ghost)
        approved_by(firm, sqlite_url, repo, base, approvers=("devon", "erin"), initiator="sofia")
        code, output = deploy_check(repo, base, sqlite_url)
        assert code == 1, output
        assert "DEPLOY_NOT_APPROVED" in output
        assert "Ghost <ghost@elsewhere.example> is no principal" in output
        decided = audit_entries_of(sqlite_url, tmp_path)
        assert decided[-1]["decision"] == "deny"
        assert decided[-1]["reason_code"] == "DEPLOY_NOT_APPROVED"

    def test_code_under_a_colleagues_name_does_not_make_its_writer_independent(
        self, tmp_path: Path, sqlite_url: str, firm: FirmConfig
    ) -> None:
        """Devon commits with erin as author, then approves with sofia: devon is a writer, so refused."""
        upgrade(sqlite_url)
        repo, base = make_repo(tmp_path)
        erin = ("Erin", "erin@northbridge.example")
        devon = ("Devon", "devon@northbridge.example")
        commit_as(repo, "src/app.py", "steal = True\n", author=erin, committer=devon)
        approved_by(firm, sqlite_url, repo, base, approvers=("devon", "sofia"), initiator="dana")
        code, output = deploy_check(repo, base, sqlite_url)
        assert code == 1, output
        assert "approval by devon does not count: they authored a commit in it" in output

    def test_the_honest_change_still_deploys(self, tmp_path: Path, sqlite_url: str, firm: FirmConfig) -> None:
        """The control case: dana writes, devon and erin (owners, not authors) approve: exit 0."""
        upgrade(sqlite_url)
        repo, base = make_repo(tmp_path)
        dana = ("Dana", "dana@northbridge.example")
        commit_as(repo, "src/app.py", "x = 2\n", author=dana, committer=dana)
        approved_by(firm, sqlite_url, repo, base, approvers=("devon", "erin"), initiator="dana")
        code, output = deploy_check(repo, base, sqlite_url)
        assert code == 0, output


def audit_entries_of(url: str, tmp_path: Path) -> list[dict[str, object]]:
    """The deploy entries the command appended to the database's audit log."""
    from orderguard.app import build_app_context

    ctx = build_app_context(EXAMPLE_FIRM, url, audit_key=tmp_path / "audit.key", execute=False)
    try:
        return audit_entries(ctx, "deploy")
    finally:
        ctx.close()
