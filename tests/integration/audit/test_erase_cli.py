"""`orderguard audit erase` end to end on a SQLite file: the app's erasure service behind the CLI,
legal holds, approvals, Cedar, and a log that `audit verify` and `audit prove` still accept after."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from orderguard.app import build_app_context
from orderguard.audit.keys import NoteSigner
from orderguard.audit.proofs import verify_inclusion
from orderguard.audit.store import AuditStore
from orderguard.cli.main import app
from orderguard.storage import make_engine
from tests.conftest import EXAMPLE_FIRM
from tests.integration.audit.helpers import order_entry

runner = CliRunner()
REASON = "court order 2026/117"


@dataclass(frozen=True)
class Prepared:
    url: str
    key: Path
    bob: int  # an entry by bob with a met approval (requested by carol)
    alice: int  # an entry by alice, held, with a met approval
    approvals: dict[int, str]


@pytest.fixture
def prepared(tmp_path: Path) -> Prepared:
    """Two entries, each with an approved erasure request; a legal hold on alice."""
    url = f"sqlite:///{tmp_path / 'orderguard.db'}"
    key = tmp_path / "audit.key"
    key.write_text(NoteSigner.generate("firm-audit-1").skey() + "\n")
    ctx = build_app_context(EXAMPLE_FIRM, url, audit_key=key, execute=False)
    try:
        bob = ctx.audit.append(order_entry(1, actor="bob"))
        alice = ctx.audit.append(order_entry(2, actor="alice"))
        desk = ctx.erasure_desk()
        approvals = {}
        for index in (bob, alice):
            _, request = desk.request(index, requested_by="carol", reason=REASON)
            assert request is not None
            for approver in ("chris", "sofia"):
                assert ctx.controls.approvals.approve(
                    request.id, approver, request.digest, ctx.clock()
                ).allowed
            approvals[index] = request.id
        assert ctx.cases is not None
        ctx.cases.responses.legal_hold("alice", actor="chris", reason="litigation 7")
    finally:
        ctx.close()
    return Prepared(url, key, bob, alice, approvals)


def _erase(prepared: Prepared, index: int, *, actor: str = "carol", approval: str | None = None) -> Result:
    args = [
        "audit",
        "erase",
        str(index),
        "--approval",
        approval or prepared.approvals[index],
        "--reason",
        REASON,
    ]
    args += ["--as", actor, "--db", prepared.url, "--config", str(EXAMPLE_FIRM), "--key", str(prepared.key)]
    return runner.invoke(app, args)


def _payload(url: str, index: int) -> bytes | None:
    engine = make_engine(url)
    try:
        stored = AuditStore(engine).entry(index)
    finally:
        engine.dispose()
    assert stored is not None
    return stored[4]


class TestEraseCommand:
    def test_approved_erasure_keeps_the_log_verifiable(self, prepared: Prepared) -> None:
        """erase exits 0 and drops the payload; verify (with two workers too) and the proof still pass."""
        result = _erase(prepared, prepared.bob)
        assert result.exit_code == 0, result.output
        assert f"entry {prepared.bob}" in result.stdout
        assert _payload(prepared.url, prepared.bob) is None
        for workers in ("1", "2"):
            verified = runner.invoke(
                app,
                ["audit", "verify", "--db", prepared.url, "--key", str(prepared.key), "--workers", workers],
            )
            assert verified.exit_code == 0, verified.output
            assert "intact" in verified.stdout
        proof = json.loads(
            runner.invoke(app, ["audit", "prove", str(prepared.bob), "--db", prepared.url]).stdout
        )
        decode = base64.b64decode
        verify_inclusion(
            prepared.bob,
            proof["treeSize"],
            decode(proof["leafHash"]),
            [decode(node) for node in proof["proof"]],
            decode(proof["root"]),
        )

    def test_a_legal_hold_refuses(self, prepared: Prepared) -> None:
        """An approved erasure of a held trader's entry exits 1 with LEGAL_HOLD and keeps the payload."""
        result = _erase(prepared, prepared.alice)
        assert result.exit_code == 1
        assert "LEGAL_HOLD" in result.stderr
        assert _payload(prepared.url, prepared.alice) is not None

    def test_another_entrys_approval_refuses(self, prepared: Prepared) -> None:
        """An approval given for another entry does not erase this one (exit 1, APPROVAL_REPLAYED)."""
        result = _erase(prepared, prepared.bob, approval=prepared.approvals[prepared.alice])
        assert result.exit_code == 1
        assert "APPROVAL_REPLAYED" in result.stderr
        assert _payload(prepared.url, prepared.bob) is not None

    def test_security_may_not_erase(self, prepared: Prepared) -> None:
        """Cedar lets only compliance erase audit payloads: sofia gets exit 1 NOT_AUTHORIZED."""
        result = _erase(prepared, prepared.bob, actor="sofia")
        assert result.exit_code == 1
        assert "NOT_AUTHORIZED" in result.stderr
        assert _payload(prepared.url, prepared.bob) is not None

    def test_bad_input_is_a_usage_error(self, prepared: Prepared) -> None:
        """An index beyond the log exits 2 naming INDEX; --workers 0 is refused by the option itself."""
        result = _erase(prepared, 999, approval="apr-x")
        assert result.exit_code == 2
        assert "INDEX 999" in result.stderr
        bad = runner.invoke(
            app, ["audit", "verify", "--db", prepared.url, "--key", str(prepared.key), "--workers", "0"]
        )
        assert bad.exit_code == 2
