"""Tampering with a stored log, by an attacker who first lifts the protection, is located by verify."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, text

from orderguard.audit.checkpoint import Checkpoint
from orderguard.audit.encoding import encode_entry
from orderguard.audit.keys import NoteSigner
from orderguard.audit.merkle import MerkleTree, hash_leaf
from orderguard.audit.verify import VerifyReport, verify_log
from orderguard.storage import make_engine
from tests.integration.audit.helpers import filled_log, keyset, lift_protection, order_entry

SIZE = 12


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate("audit-key")


@pytest.fixture
def tampered(db_url: str, signer: NoteSigner) -> tuple[Engine, list[str]]:
    """A 12-entry log with a checkpoint after every append, protection lifted; yields (engine, notes)."""
    notes = filled_log(db_url, signer, SIZE)
    engine = make_engine(db_url)
    lift_protection(engine)
    return engine, notes


def run(engine: Engine, signer: NoteSigner, kept: list[str] = ()) -> VerifyReport:  # type: ignore[assignment]
    report = verify_log(engine, keyset(signer), [(f"kept {n}", note) for n, note in enumerate(kept)])
    engine.dispose()
    return report


def first_bad(report: VerifyReport) -> tuple[int | None, str]:
    finding = report.first_bad
    assert finding is not None, "verify reported the tampered log as intact"
    return finding.index, finding.problem


def move_row(engine: Engine, source: int, target: int) -> None:
    with engine.begin() as conn:
        for table in ("audit_entries", "audit_payloads"):
            conn.execute(text(f"UPDATE {table} SET idx = :t WHERE idx = :s"), {"t": target, "s": source})


class TestTamper:
    def test_untouched_log_verifies(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """With protection lifted but nothing changed, verify says intact and every checkpoint matches."""
        report = run(tampered[0], signer, tampered[1][-1:])
        assert report.ok, report.findings
        assert report.size == SIZE
        assert report.covered_size == SIZE

    def test_flipped_payload_byte(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """One changed byte in entry 5's payload is reported at index 5 as a payload change."""
        engine, _ = tampered
        with engine.begin() as conn:
            payload = conn.execute(text("SELECT payload FROM audit_payloads WHERE idx = 5")).scalar_one()
            changed = bytes(payload).replace(b'"qty":105', b'"qty":905')
            assert changed != bytes(payload)
            conn.execute(text("UPDATE audit_payloads SET payload = :p WHERE idx = 5"), {"p": changed})
        index, problem = first_bad(run(engine, signer))
        assert index == 5
        assert "payload" in problem

    def test_deleted_row(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """Deleting entry 4 is reported at index 4 as missing."""
        engine, _ = tampered
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entries WHERE idx = 4"))
            conn.execute(text("DELETE FROM audit_payloads WHERE idx = 4"))
        index, problem = first_bad(run(engine, signer))
        assert index == 4
        assert "missing" in problem

    def test_reordered_rows(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """Swapping entries 3 and 7 is reported at index 3 as reordered."""
        engine, _ = tampered
        move_row(engine, 3, 1000)
        move_row(engine, 7, 3)
        move_row(engine, 1000, 7)
        index, problem = first_bad(run(engine, signer))
        assert index == 3
        assert "reordered" in problem

    def test_inserted_forged_row(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """A well-formed forged entry slipped in at 6 (later rows shifted up) is located at index 6."""
        engine, _ = tampered
        for position in range(SIZE - 1, 5, -1):
            move_row(engine, position, position + 1)
        forged = encode_entry(dataclasses.replace(order_entry(6), actor="ghost"))
        leaf = forged.leaf(6)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO audit_entries (idx, leaf_hash, leaf) VALUES (6, :h, :l)"),
                {"h": hash_leaf(leaf), "l": leaf},
            )
            conn.execute(
                text("INSERT INTO audit_payloads (idx, salt, payload) VALUES (6, :s, :p)"),
                {"s": forged.salt, "p": forged.payload},
            )
        index, problem = first_bad(run(engine, signer))
        assert index == 6
        assert "does not match" in problem

    def test_truncated_tail(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """Removing entries 9.. while their checkpoints remain is reported at index 9."""
        engine, _ = tampered
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entries WHERE idx >= 9"))
            conn.execute(text("DELETE FROM audit_payloads WHERE idx >= 9"))
        index, problem = first_bad(run(engine, signer))
        assert index == 9
        assert "gone" in problem

    def test_rollback_to_earlier_state(self, tampered: tuple[Engine, list[str]], signer: NoteSigner) -> None:
        """A self-consistent rollback to 8 entries passes on stored data alone but fails a kept checkpoint."""
        engine, notes = tampered
        with engine.begin() as conn:
            for table in ("audit_entries", "audit_payloads"):
                conn.execute(text(f"DELETE FROM {table} WHERE idx >= 8"))
            conn.execute(text("DELETE FROM audit_checkpoints WHERE size > 8"))
        assert run(engine, signer).ok
        index, problem = first_bad(run(engine, signer, kept=[notes[-1]]))
        assert index == 8
        assert "rolled back" in problem

    def test_rehashed_forgery_signed_by_another_key(
        self, tampered: tuple[Engine, list[str]], signer: NoteSigner
    ) -> None:
        """Rewriting entry 5 with fresh hashes and checkpoints signed by another key fails at index 5."""
        engine, notes = tampered
        attacker = NoteSigner.generate("audit-key")  # same name, different key
        forged = encode_entry(dataclasses.replace(order_entry(5), after={"qty": 1}))
        leaf = forged.leaf(5)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE audit_entries SET leaf = :l, leaf_hash = :h WHERE idx = 5"),
                {"l": leaf, "h": hash_leaf(leaf)},
            )
            conn.execute(
                text("UPDATE audit_payloads SET salt = :s, payload = :p WHERE idx = 5"),
                {"s": forged.salt, "p": forged.payload},
            )
            hashes = [
                bytes(h)
                for h in conn.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY idx")).scalars()
            ]
            conn.execute(text("DELETE FROM audit_checkpoints WHERE size > 5"))
            tree = MerkleTree(hashes)
            for size in range(6, SIZE + 1):
                note = Checkpoint("orderguard.local/audit", size, tree.root(size)).sign([attacker])
                conn.execute(
                    text(
                        "INSERT INTO audit_checkpoints (size, key_name, note, created_at_ns) "
                        "VALUES (:s, :k, :n, 0)"
                    ),
                    {"s": size, "k": "audit-key", "n": note},
                )
        alone = run(make_engine(str(engine.url.render_as_string(hide_password=False))), signer)
        assert not alone.ok
        assert any("not in the trusted key set" in f.problem for f in alone.findings)
        assert alone.covered_size == 5
        index, problem = first_bad(run(engine, signer, kept=[notes[-1]]))
        assert index == 5
        assert "changed" in problem
