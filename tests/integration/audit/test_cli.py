"""The `orderguard audit` commands end to end: keys, checkpoints, proofs, verify, export and verify-bundle."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from orderguard.audit.keys import KeySet, NoteSigner, parse_signer
from orderguard.audit.merkle import hash_leaf
from orderguard.audit.proofs import verify_inclusion
from orderguard.cli.main import app
from orderguard.storage import make_engine
from tests.integration.audit.helpers import filled_log, lift_protection

runner = CliRunner()


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path, NoteSigner]:
    """A signing key written by `audit keygen` and a key set file holding its verifier key."""
    key = tmp_path / "audit.key"
    result = runner.invoke(app, ["audit", "keygen", "firm-audit-1", "--out", str(key)])
    assert result.exit_code == 0, result.output
    keys = tmp_path / "keys.txt"
    keys.write_text(result.stdout)
    return key, keys, parse_signer(key.read_text())


class TestKeygen:
    def test_writes_private_key_and_prints_verifier(self, key_files: tuple[Path, Path, NoteSigner]) -> None:
        """keygen writes a 0600 signer key and prints the matching verifier key."""
        key, keys, signer = key_files
        assert key.stat().st_mode & 0o777 == 0o600
        assert KeySet.load(keys).verifiers[0] == signer.verifier

    def test_refuses_to_overwrite(self, key_files: tuple[Path, Path, NoteSigner]) -> None:
        """keygen will not replace an existing key file."""
        result = runner.invoke(app, ["audit", "keygen", "other", "--out", str(key_files[0])])
        assert result.exit_code == 2
        assert "already exists" in result.stderr


class TestVerifyCommand:
    def test_intact_then_tampered(
        self, db_url: str, key_files: tuple[Path, Path, NoteSigner], tmp_path: Path
    ) -> None:
        """verify exits 0 on an intact log and 1 naming the index after a payload edit."""
        _, keys, signer = key_files
        filled_log(db_url, signer, 6, checkpoint_each=False)
        result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--keys", str(keys)])
        assert result.exit_code == 0, result.output
        assert "intact: 6 entries" in result.stdout
        engine = make_engine(db_url)
        lift_protection(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_payloads SET payload = :p WHERE idx = 4"), {"p": b"{}"})
        engine.dispose()
        result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--keys", str(keys)])
        assert result.exit_code == 1
        assert "TAMPERED: index 4: payload" in result.stderr

    def test_kept_checkpoint_and_env_key(
        self,
        sqlite_url: str,
        key_files: tuple[Path, Path, NoteSigner],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """`audit checkpoint` with the key in ORDERGUARD_AUDIT_KEY signs; verify proves the log extends it."""
        key, _, signer = key_files
        filled_log(sqlite_url, signer, 3, checkpoint_each=False)
        monkeypatch.setenv("ORDERGUARD_AUDIT_KEY", key.read_text())
        result = runner.invoke(app, ["audit", "checkpoint", "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        kept = tmp_path / "kept.note"
        kept.write_text(result.stdout)
        assert result.stdout.splitlines()[1] == "3"
        filled_log(sqlite_url, signer, 2, checkpoint_each=False)
        result = runner.invoke(app, ["audit", "verify", "--db", sqlite_url, "--checkpoint", str(kept)])
        assert result.exit_code == 0, result.output
        monkeypatch.delenv("ORDERGUARD_AUDIT_KEY")
        result = runner.invoke(app, ["audit", "checkpoint", "--db", sqlite_url])
        assert result.exit_code == 0
        assert result.stdout.splitlines()[1] == "5"  # the newest stored one, written when the log closed

    def test_checkpoint_refuses_to_bless_a_tampered_store(
        self, sqlite_url: str, key_files: tuple[Path, Path, NoteSigner]
    ) -> None:
        """`audit checkpoint` verifies first and will not sign a store whose payload was edited."""
        key, _, signer = key_files
        filled_log(sqlite_url, signer, 4, checkpoint_each=False)
        engine = make_engine(sqlite_url)
        lift_protection(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_payloads SET payload = :p WHERE idx = 2"), {"p": b"{}"})
        engine.dispose()
        result = runner.invoke(app, ["audit", "checkpoint", "--db", sqlite_url, "--key", str(key)])
        assert result.exit_code == 1
        assert "refusing to sign" in result.stderr
        assert "index 2" in result.stderr

    def test_usage_errors_exit_2(self, sqlite_url: str, tmp_path: Path) -> None:
        """No keys, an unreadable key set or a malformed key set are usage errors naming the input."""
        result = runner.invoke(app, ["audit", "verify", "--db", sqlite_url])
        assert result.exit_code == 2
        assert "--keys FILE" in result.stderr
        keys = tmp_path / "keys.txt"
        keys.write_text(NoteSigner.generate("k").verifier.vkey() + "\n")
        result = runner.invoke(
            app, ["audit", "verify", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--keys", str(keys)]
        )
        assert result.exit_code == 2
        assert "no audit tables" in result.stderr
        bad = tmp_path / "bad.txt"
        bad.write_text("# comment\nnot-a-key\n")
        result = runner.invoke(app, ["audit", "verify", "--db", sqlite_url, "--keys", str(bad)])
        assert result.exit_code == 2
        assert "line 2" in result.stderr


class TestProveExportBundle:
    def test_prove_prints_a_verifiable_proof(
        self, sqlite_url: str, key_files: tuple[Path, Path, NoteSigner]
    ) -> None:
        """`audit prove` prints a JSON proof that the verifier accepts."""
        filled_log(sqlite_url, key_files[2], 7, checkpoint_each=False)
        result = runner.invoke(app, ["audit", "prove", "5", "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["treeSize"] == 7
        assert doc["checkpoint"].split("\n")[1] == "7"  # the signed checkpoint the proof is against
        proof = [base64.b64decode(p) for p in doc["proof"]]
        verify_inclusion(
            5, doc["treeSize"], base64.b64decode(doc["leafHash"]), proof, base64.b64decode(doc["root"])
        )
        assert runner.invoke(app, ["audit", "prove", "70", "--db", sqlite_url]).exit_code == 2

    def test_bundle_round_trip_and_tamper(
        self, db_url: str, key_files: tuple[Path, Path, NoteSigner], tmp_path: Path
    ) -> None:
        """An exported bundle verifies offline; editing one payload in it makes verify-bundle exit 1."""
        _, keys, signer = key_files
        filled_log(db_url, signer, 9, checkpoint_each=False)
        bundle = tmp_path / "evidence.json"
        result = runner.invoke(
            app, ["audit", "export", "--db", db_url, "--keys", str(keys), "--out", str(bundle)]
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["audit", "verify-bundle", str(bundle), "--show"])
        assert result.exit_code == 0, result.output
        shown = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert [entry["index"] for entry in shown] == list(range(9))
        assert shown[3]["after"]["qty"] == 103
        document = json.loads(bundle.read_text())
        document["entries"][3]["payload"] = base64.b64encode(b'{"after":{"qty":1}}').decode()
        bad_leaf = base64.b64decode(document["entries"][6]["leaf"]).replace(b"ord-6", b"ord-X")
        document["entries"][6]["leaf"] = base64.b64encode(bad_leaf).decode()
        assert hash_leaf(bad_leaf)  # still a well-formed leaf, only the content changed
        bundle.write_text(json.dumps(document))
        result = runner.invoke(app, ["audit", "verify-bundle", str(bundle)])
        assert result.exit_code == 1
        assert "entry 3: payload does not match" in result.stderr
        assert "entry 6:" in result.stderr

    def test_bundle_pinned_to_other_keys_fails(
        self, sqlite_url: str, key_files: tuple[Path, Path, NoteSigner], tmp_path: Path
    ) -> None:
        """An auditor pinning a different key set rejects the bundle's checkpoint."""
        _, keys, signer = key_files
        filled_log(sqlite_url, signer, 2, checkpoint_each=False)
        bundle = tmp_path / "b.json"
        assert (
            runner.invoke(
                app, ["audit", "export", "--db", sqlite_url, "--keys", str(keys), "--out", str(bundle)]
            ).exit_code
            == 0
        )
        other = tmp_path / "other.txt"
        other.write_text(KeySet([NoteSigner.generate("firm-audit-1").verifier]).to_text())
        result = runner.invoke(app, ["audit", "verify-bundle", str(bundle), "--keys", str(other)])
        assert result.exit_code == 1
        assert "not in the trusted key set" in result.stderr

    def test_bundle_not_json_is_usage_error(self, tmp_path: Path) -> None:
        """A file that is not a bundle exits 2 and says how to make one."""
        path = tmp_path / "x.json"
        path.write_text("[]")
        result = runner.invoke(app, ["audit", "verify-bundle", str(path)])
        assert result.exit_code == 2
        assert "orderguard audit export" in result.stderr
