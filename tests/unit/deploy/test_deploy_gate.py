"""The deploy gate over a real git repository: owners, author exclusion, staleness, minimum approvals."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderguard.approvals.model import ApprovalRequest, SensitiveAction
from orderguard.config import FirmConfig
from orderguard.deploy.codeowners import load_codeowners, owners_for, parse_codeowners
from orderguard.deploy.gate import BREAK_GLASS_RULE, DeployVerdict, audit_deploy, check_deploy, deploy_content
from orderguard.deploy.git import DeployInputError, read_range
from orderguard.domain import AuditAction, ReasonCode
from orderguard.gateway.stack import ControlsStack
from tests.controls_support import SECOND, T0, MemoryAuditSink, make_stack
from tests.deploy_support import commit, make_repo


def request_deploy(s: ControlsStack, repo: Path, rev_range: str, initiator: str = "sofia") -> ApprovalRequest:
    change = read_range(repo, rev_range)
    _, request = s.approvals.open(
        SensitiveAction.DEPLOY, f"deploy:{change.head}", initiator, deploy_content(repo.name, change), T0
    )
    assert request is not None
    return request


def verdict(s: ControlsStack, repo: Path, rev_range: str, firm: FirmConfig, now: int = T0) -> DeployVerdict:
    change = read_range(repo, rev_range)
    rules, _ = load_codeowners(repo, change.base, None)
    principals = [p.to_domain() for p in firm.principals]
    return check_deploy(change, repo.name, rules, s.approvals.store.requests(), principals, now=now)


class TestCodeowners:
    def test_last_matching_rule_wins(self) -> None:
        """Directory, glob, anchored and unanchored patterns resolve like GitHub's."""
        rules = parse_codeowners("*  @a\n*.py @b\n/src/risk/ @c\ndocs/ @d  # docs team\n", "CODEOWNERS")
        assert owners_for("README.md", rules) == ("a",)
        assert owners_for("lib/x.py", rules) == ("b",)
        assert owners_for("src/risk/limits.py", rules) == ("c",)
        assert owners_for("docs/a/b.md", rules) == ("d",)
        assert owners_for("anything", parse_codeowners("/src/ @x\n", "C")) == ()

    def test_a_bad_owner_names_file_and_line(self) -> None:
        """An owner that is neither @name nor an e-mail is an error with its line."""
        with pytest.raises(DeployInputError, match="CODEOWNERS:2"):
            parse_codeowners("* @a\nsrc/ bad!owner\n", "CODEOWNERS")


class TestGate:
    def test_two_owner_approvals_from_non_authors_deploy(self, tmp_path: Path, firm: FirmConfig) -> None:
        """dana's change to src/risk is approved by erin (owner) and devon: it may deploy."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/risk/limits.py": "MAX = 5\n", "src/app.py": "x = 2\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD")
        for approver in ("erin", "devon"):
            assert s.approvals.approve(request.id, approver, request.digest, T0).allowed
        result = verdict(s, repo, f"{base}..HEAD", firm)
        assert result.allowed, result.reasons
        assert result.authors == ("dana",)
        assert result.decision().allowed

    def test_a_deploy_approved_only_by_its_author_is_refused(self, tmp_path: Path, firm: FirmConfig) -> None:
        """devon wrote the change; his approval does not count and one approval is not two."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 3\n"}, "devon")
        request = request_deploy(s, repo, f"{base}..HEAD")
        s.approvals.approve(request.id, "devon", request.digest, T0)
        result = verdict(s, repo, f"{base}..HEAD", firm)
        assert not result.allowed
        assert result.decision().reason is ReasonCode.DEPLOY_NOT_APPROVED
        text = " | ".join(result.reasons)
        assert "approval by devon does not count" in text
        assert "needs 2 approvals" in text
        assert "src/app.py: needs an owner's approval" in text

    def test_approvals_of_an_older_revision_are_stale(self, tmp_path: Path, firm: FirmConfig) -> None:
        """A commit pushed after approval makes the earlier approvals stale."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 4\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD")
        for approver in ("erin", "devon"):
            s.approvals.approve(request.id, approver, request.digest, T0)
        commit(repo, {"src/app.py": "x = 'sneaky'\n"}, "dana")
        result = verdict(s, repo, f"{base}..HEAD", firm)
        assert not result.allowed
        assert any("stale" in r and "older revision" in r for r in result.reasons)

    def test_a_path_needs_one_of_its_owners(self, tmp_path: Path, firm: FirmConfig) -> None:
        """Changing CODEOWNERS needs sofia even with two other approvals; owners are read at the base."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"CODEOWNERS": "* @dana\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD", initiator="dana")
        for approver in ("erin", "devon"):
            s.approvals.approve(request.id, approver, request.digest, T0)
        result = verdict(s, repo, f"{base}..HEAD", firm)
        assert result.reasons == ("CODEOWNERS: needs an owner's approval (@sofia)",)

    def test_expired_approvals_do_not_count(self, tmp_path: Path, firm: FirmConfig) -> None:
        """Approvals on a request past its TTL are not counted and the reason says so."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 6\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD")
        for approver in ("erin", "devon"):
            s.approvals.approve(request.id, approver, request.digest, T0)
        result = verdict(s, repo, f"{base}..HEAD", firm, now=request.expires_ns)
        assert f"approval request {request.id} expired; ask for approval again" in result.reasons
        assert result.approvers == ()

    @pytest.mark.parametrize("rev_range", ["HEAD", "nope..HEAD", "..HEAD"])
    def test_bad_ranges_are_input_errors(self, tmp_path: Path, rev_range: str) -> None:
        """A malformed or unknown range is an error naming it."""
        repo, _ = make_repo(tmp_path)
        with pytest.raises(DeployInputError):
            read_range(repo, rev_range)

    def test_not_a_repository(self, tmp_path: Path) -> None:
        """A directory without git is refused with the fix."""
        with pytest.raises(DeployInputError, match="not a git repository"):
            read_range(tmp_path, "a..b")


class TestBreakGlassDeploy:
    def test_active_break_glass_deploys_audited_and_alerted(self, tmp_path: Path, firm: FirmConfig) -> None:
        """With no approvals, a break-glass on the exact range deploys; every overridden reason is kept,
        the audit entry is break_glass, security is notified and alerted, the review stays open."""
        s, _, sinks = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/risk/limits.py": "MAX = 0  # hotfix\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD", initiator="dana")
        assert s.break_glass.invoke(request.id, "dana", "limits bug halts all trading; hotfix", T0).allowed
        notified_at_invoke = len(sinks.notifications)
        assert [a.rule for a in sinks.alerts] == ["break_glass"]
        result = verdict(s, repo, f"{base}..HEAD", firm, now=T0 + SECOND)
        assert result.allowed
        assert result.emergency
        assert "needs 2 approvals" in " | ".join(result.reasons)
        assert result.decision().allowed
        assert "BREAK-GLASS" in result.decision().message
        audit = MemoryAuditSink()
        principals = [p.to_domain() for p in firm.principals]
        index = audit_deploy(
            audit, result, "dana", T0 + SECOND, principals=principals, notifications=sinks, alerts=sinks
        )
        entry = audit.entries[index]
        assert entry.action is AuditAction.BREAK_GLASS
        assert entry.decision == "allow"
        assert entry.after is not None
        assert entry.after["break_glass"]["request_id"] == request.id  # type: ignore[index]
        assert [n.recipient for n in sinks.notifications[notified_at_invoke:]] == ["sofia"]
        assert [a.rule for a in sinks.alerts] == ["break_glass", BREAK_GLASS_RULE]
        assert [g.request_id for g in s.break_glass.open_reviews()] == [request.id]

    def test_an_expired_break_glass_no_longer_overrides(self, tmp_path: Path, firm: FirmConfig) -> None:
        """After the break-glass TTL the range is refused again with every reason."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 8\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD", initiator="dana")
        s.break_glass.invoke(request.id, "dana", "limits bug halts all trading; hotfix", T0)
        ttl = int(firm.controls.break_glass_ttl_seconds) * SECOND
        result = verdict(s, repo, f"{base}..HEAD", firm, now=T0 + ttl)
        assert not result.allowed
        assert result.break_glass is None
        assert result.decision().reason is ReasonCode.DEPLOY_NOT_APPROVED

    def test_break_glass_on_an_older_revision_does_not_cover_a_newer_one(
        self, tmp_path: Path, firm: FirmConfig
    ) -> None:
        """A commit pushed after the break-glass is not covered by it."""
        s, _, _ = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 9\n"}, "dana")
        request = request_deploy(s, repo, f"{base}..HEAD", initiator="dana")
        s.break_glass.invoke(request.id, "dana", "limits bug halts all trading; hotfix", T0)
        commit(repo, {"src/app.py": "x = 'and something else'\n"}, "dana")
        result = verdict(s, repo, f"{base}..HEAD", firm, now=T0 + SECOND)
        assert not result.allowed
        assert result.break_glass is None

    def test_a_refused_deploy_is_audited_as_decided(self, tmp_path: Path, firm: FirmConfig) -> None:
        """Without break-glass the entry is a plain decision and nobody is paged."""
        s, _, sinks = make_stack(firm)
        repo, base = make_repo(tmp_path)
        commit(repo, {"src/app.py": "x = 10\n"}, "dana")
        request_deploy(s, repo, f"{base}..HEAD")
        audit = MemoryAuditSink()
        result = verdict(s, repo, f"{base}..HEAD", firm)
        principals = [p.to_domain() for p in firm.principals]
        audit_deploy(audit, result, "dana", T0, principals=principals, notifications=sinks, alerts=sinks)
        assert audit.last().action is AuditAction.DECIDED
        assert audit.last().reason_code == ReasonCode.DEPLOY_NOT_APPROVED.value
        assert sinks.notifications == []
        assert sinks.alerts == []
