"""Note keys and signed checkpoints follow the C2SP signed-note formats and the key set's limits."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orderguard.audit.checkpoint import Checkpoint, CheckpointError, parse_note, verify_note
from orderguard.audit.keys import (
    KeyFormatError,
    KeySet,
    NoteSigner,
    load_signer,
    parse_signer,
    parse_verifier,
)

# The example key pair and signature published in the Go golang.org/x/mod/sumdb/note documentation.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="


class TestKeys:
    def test_interoperates_with_go_note_example(self) -> None:
        """The Go note package's example signer key yields its verifier key, key id and exact signature."""
        signer = parse_signer(GO_SKEY)
        assert signer.verifier.vkey() == GO_VKEY
        assert parse_verifier(GO_VKEY) == signer.verifier
        assert base64.b64encode(signer.verifier.key_id + signer.sign(GO_TEXT)).decode() == GO_SIG

    def test_round_trip(self) -> None:
        """A generated key survives writing and parsing in both formats."""
        signer = NoteSigner.generate("firm-audit")
        assert parse_signer(signer.skey()).verifier == signer.verifier
        assert parse_verifier(signer.verifier.vkey()) == signer.verifier

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("PeterNeumann+c74f20a3+ARpc", "not an Ed25519 note key"),
            ("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
            ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "without spaces"),
            ("just-text", "fields"),
        ],
    )
    def test_bad_verifier_keys(self, text: str, message: str) -> None:
        """Malformed verifier keys are refused with the reason."""
        with pytest.raises(KeyFormatError, match=message):
            parse_verifier(text)

    def test_signer_from_file_and_env(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The signing key comes from a file when given, else from ORDERGUARD_AUDIT_KEY, else nothing."""
        monkeypatch.delenv("ORDERGUARD_AUDIT_KEY", raising=False)
        assert load_signer() is None
        path = tmp_path / "k"
        path.write_text(GO_SKEY + "\n")
        assert load_signer(path) is not None
        monkeypatch.setenv("ORDERGUARD_AUDIT_KEY", GO_VKEY)
        with pytest.raises(KeyFormatError, match=r"ORDERGUARD_AUDIT_KEY.*keygen"):
            load_signer()
        with pytest.raises(KeyFormatError, match="cannot read"):
            load_signer(tmp_path / "missing")

    def test_key_set_parses_limits_and_names_bad_lines(self) -> None:
        """A key set line may carry from=/until= limits; a bad option names its line."""
        keys = KeySet.parse(f"# firm keys\n{GO_VKEY} from=10 until=20\n", "keys.txt")
        assert (keys.verifiers[0].from_size, keys.verifiers[0].until_size) == (10, 20)
        assert KeySet.parse(keys.to_text(), "again").verifiers == keys.verifiers
        with pytest.raises(KeyFormatError, match=r"keys\.txt line 2"):
            KeySet.parse(f"\n{GO_VKEY} since=3\n", "keys.txt")
        with pytest.raises(KeyFormatError, match="no verifier keys"):
            KeySet.parse("# empty\n", "keys.txt")


class TestCheckpointNotes:
    def test_note_layout(self) -> None:
        """A checkpoint note is origin, size, base64 root, a blank line and an em-dash signature line."""
        signer = NoteSigner.generate("k1")
        note = Checkpoint("example.com/log", 42, b"\x07" * 32).sign([signer])
        lines = note.split("\n")
        assert lines[:4] == ["example.com/log", "42", base64.b64encode(b"\x07" * 32).decode(), ""]
        assert lines[4].startswith("\u2014 k1 ")
        assert note.endswith("\n")
        assert verify_note(note, KeySet([signer.verifier])) == (
            Checkpoint("example.com/log", 42, b"\x07" * 32),
            "k1",
        )

    def test_rotation_keeps_old_checkpoints_verifiable(self) -> None:
        """After rotation, the old key verifies its old checkpoints but not a larger tree it signs later."""
        old, new = NoteSigner.generate("audit-2025"), NoteSigner.generate("audit-2026")
        keys = KeySet.parse(f"{old.verifier.vkey()} until=100\n{new.verifier.vkey()} from=100\n", "keys")
        old_note = Checkpoint("log", 90, b"\1" * 32).sign([old])
        assert verify_note(old_note, keys)[1] == "audit-2025"
        both = Checkpoint("log", 100, b"\2" * 32).sign([old, new])
        assert verify_note(both, keys)[0].size == 100
        assert verify_note(Checkpoint("log", 150, b"\3" * 32).sign([new]), keys)[1] == "audit-2026"
        with pytest.raises(CheckpointError, match=r"trusted only for sizes 0\.\.100, not 150"):
            verify_note(Checkpoint("log", 150, b"\3" * 32).sign([old]), keys)

    def test_forged_and_altered_notes_fail(self) -> None:
        """A note signed by an unknown key, or with an altered body, does not verify."""
        signer, other = NoteSigner.generate("k1"), NoteSigner.generate("k1")
        keys = KeySet([signer.verifier])
        with pytest.raises(CheckpointError, match="not in the trusted key set"):
            verify_note(Checkpoint("log", 5, b"\1" * 32).sign([other]), keys)
        altered = Checkpoint("log", 5, b"\1" * 32).sign([signer]).replace("\n5\n", "\n6\n")
        with pytest.raises(CheckpointError, match="does not verify"):
            verify_note(altered, keys)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("log\n5\nAAAA\n", "no blank line"),
            ("log\n5\n\n\u2014 k x\n", "body needs"),
            ("log\n05\nAAAA\n\n\u2014 k AAAAAAAA\n", "bad origin"),
            ("log\n5\nAAAA\n\n\u2014 k AAAAAAAA\n", "not 32"),
            (f"log\n5\n{base64.b64encode(bytes(32)).decode()}\n\n- k AAAAAAAA\n", "signature line 1"),
            (f"log\n5\n{base64.b64encode(bytes(32)).decode()}\nextra\n\n\u2014 k AAAAAAAA\n", "extension"),
        ],
    )
    def test_malformed_notes(self, text: str, message: str) -> None:
        """Structural problems in a note are reported with what is wrong."""
        with pytest.raises(CheckpointError, match=message):
            parse_note(text)
