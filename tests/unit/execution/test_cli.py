"""`orderguard keys`: stores, generation, and the request → approve → apply custody flow, audited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from orderguard.cli.main import app
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.conftest import EXAMPLE_FIRM

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def generate(store: Path, owner: str, purpose: str) -> tuple[str, str]:
    code, out = run("keys", "generate", "--store", str(store), "--owner", owner, "--purpose", purpose)
    assert code == 0, out
    key_id = re.search(r"key_id (\w+)", out)
    public = re.search(r"public_key ([0-9a-f]+)", out)
    assert key_id is not None
    assert public is not None
    return key_id.group(1), public.group(1)


@pytest.fixture
def custody(tmp_path: Path, sqlite_url: str) -> dict[str, Path | str]:
    """A registry with Kim's and Sofia's approval keys bootstrapped, and their own stores."""
    upgrade(sqlite_url)
    paths: dict[str, Path | str] = {"db": sqlite_url, "registry": tmp_path / "registry"}
    assert run("keys", "init", str(paths["registry"]))[0] == 0
    for person in ("kim", "sofia"):
        store = tmp_path / person
        assert run("keys", "init", str(store))[0] == 0
        key_id, public = generate(store, person, "approval")
        code, out = run(
            "keys", "bootstrap", "--owner", person, "--public-key", public,
            "--registry", str(paths["registry"]), "--config", str(EXAMPLE_FIRM), "--db", sqlite_url,
        )  # fmt: skip
        assert code == 0, out
        paths[person], paths[f"{person}-key"] = store, key_id
    return paths


def audit_count(url: str) -> int:
    from orderguard.storage.audit_tables import audit_entries

    with make_engine(url).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(audit_entries)).scalar_one())


class TestKeysCli:
    def test_request_approve_apply_issues_a_key(self, custody: dict[str, Path | str], tmp_path: Path) -> None:
        """Kim requests Alice's key, Sofia approves, apply registers it and the audit log grows."""
        alice = tmp_path / "alice"
        run("keys", "init", str(alice))
        _, public = generate(alice, "alice", "order_signing")
        request = tmp_path / "request.json"
        code, out = run(
            "keys", "request", "issue", "--by", "kim", "--owner", "alice", "--purpose", "order_signing",
            "--reason", "new hire", "--public-key", public, "--out", str(request),
        )  # fmt: skip
        assert code == 0, out
        code, out = run(
            "keys", "approve", str(request), "--by", "sofia", "--store", str(custody["sofia"]),
            "--key-id", str(custody["sofia-key"]),
        )  # fmt: skip
        assert code == 0, out
        before = audit_count(str(custody["db"]))
        code, out = run(
            "keys", "apply", str(request), "--registry", str(custody["registry"]),
            "--config", str(EXAMPLE_FIRM), "--db", str(custody["db"]),
        )  # fmt: skip
        assert code == 0, out
        assert audit_count(str(custody["db"])) == before + 1
        code, out = run("keys", "list", "--store", str(custody["registry"]))
        assert code == 0
        assert "order_signing" in out
        assert "alice" in out

    def test_an_unapproved_request_is_refused_with_exit_1(
        self, custody: dict[str, Path | str], tmp_path: Path
    ) -> None:
        """Apply without an approval exits 1 and the refusal is audited."""
        _, public = generate(Path(str(custody["kim"])), "bob", "order_signing")
        request = tmp_path / "request.json"
        run(
            "keys", "request", "issue", "--by", "kim", "--owner", "bob", "--purpose", "order_signing",
            "--reason", "x", "--public-key", public, "--out", str(request),
        )  # fmt: skip
        before = audit_count(str(custody["db"]))
        code, out = run(
            "keys", "apply", str(request), "--registry", str(custody["registry"]),
            "--config", str(EXAMPLE_FIRM), "--db", str(custody["db"]),
        )  # fmt: skip
        assert code == 1
        assert "APPROVAL_REQUIRED" in out
        assert audit_count(str(custody["db"])) == before + 1

    def test_a_loose_store_is_a_usage_error_naming_the_fix(self, tmp_path: Path) -> None:
        """A key store readable by others exits 2 with the chmod that fixes it."""
        store = tmp_path / "store"
        run("keys", "init", str(store))
        store.chmod(0o755)
        code, out = run("keys", "list", "--store", str(store))
        assert code == 2
        assert f"chmod 700 {store}" in out

    def test_a_bad_purpose_is_a_usage_error(self, tmp_path: Path) -> None:
        """An unknown purpose exits 2 and lists the valid ones."""
        run("keys", "init", str(tmp_path / "s"))
        code, out = run("keys", "generate", "--store", str(tmp_path / "s"), "--owner", "a", "--purpose", "x")
        assert code == 2
        assert "order_signing" in out
