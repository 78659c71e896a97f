"""The prevention layer: append-only triggers on both backends, roles and bypass attempts on PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from orderguard.audit.keys import NoteSigner
from orderguard.audit.verify import verify_log
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.integration.audit.helpers import filled_log, keyset

CHANGES = [
    "UPDATE audit_entries SET leaf = leaf WHERE idx = 1",
    "DELETE FROM audit_entries WHERE idx = 1",
    "UPDATE audit_payloads SET payload = payload WHERE idx = 1",
    "DELETE FROM audit_payloads WHERE idx = 1",
    "UPDATE audit_checkpoints SET note = note",
    "DELETE FROM audit_checkpoints",
    "DELETE FROM audit_erasures",
]


class TestTriggersOnBothBackends:
    @pytest.mark.parametrize("statement", CHANGES)
    def test_update_and_delete_are_refused(self, db_url: str, statement: str) -> None:
        """Every UPDATE or DELETE on an audit table is refused by the database."""
        filled_log(db_url, NoteSigner.generate("k"), 3)
        engine = make_engine(db_url)
        with engine.begin() as conn:  # row triggers need a row: an erasure record for entry 0
            conn.execute(
                text(
                    "INSERT INTO audit_erasures (idx, erasure_idx, reason, erased_at_ns) "
                    "VALUES (0, 2, 'x', 0)"
                )
            )
        with pytest.raises(DBAPIError, match=r"append-only|no recorded erasure"), engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()

    def test_payload_delete_allowed_only_after_recorded_erasure(self, db_url: str) -> None:
        """A payload row can be deleted once audit_erasures holds its erasure, and not before."""
        filled_log(db_url, NoteSigner.generate("k"), 3)
        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_erasures (idx, erasure_idx, reason, erased_at_ns) "
                    "VALUES (1, 2, 'x', 0)"
                )
            )
            assert conn.execute(text("DELETE FROM audit_payloads WHERE idx = 1")).rowcount == 1
        engine.dispose()

    def test_migration_is_idempotent(self, db_url: str) -> None:
        """Running the migrations twice is harmless."""
        upgrade(db_url)
        upgrade(db_url)


def _superuser(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.mark.postgres
class TestPostgresBypasses:
    def test_application_role_may_only_insert_and_select(self, postgres_url: str) -> None:
        """A login role in orderguard_audit_writer may read and append, not UPDATE, DELETE or TRUNCATE."""
        filled_log(postgres_url, NoteSigner.generate("k"), 3)
        app = f"og_app_{uuid.uuid4().hex[:8]}"
        with _superuser(postgres_url) as conn:
            conn.execute(f"CREATE ROLE {app} LOGIN IN ROLE orderguard_audit_writer")
        base, _, database = postgres_url.rpartition("/")
        app_url = base.replace("postgres@", f"{app}@").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(f"{app_url}/{database}", autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM audit_entries").fetchone() == (3,)
            conn.execute("INSERT INTO audit_checkpoints VALUES (99, 'x', 'note', 0)")
            for statement in (
                "UPDATE audit_entries SET leaf = leaf",
                "DELETE FROM audit_entries",
                "TRUNCATE audit_entries",
                "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)

    def test_tables_belong_to_a_nologin_owner(self, postgres_url: str) -> None:
        """The audit tables are owned by orderguard_audit_owner, which cannot log in."""
        upgrade(postgres_url)
        with _superuser(postgres_url) as conn:
            owners = conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename LIKE 'audit_%'"
            ).fetchall()
            assert owners == [("orderguard_audit_owner",)]
            row = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'orderguard_audit_owner'")
            assert row.fetchone() == (False,)

    def test_owner_truncate_is_refused_by_the_database(self, postgres_url: str) -> None:
        """REFUSED: the owner role's TRUNCATE hits the statement trigger."""
        filled_log(postgres_url, NoteSigner.generate("k"), 3)
        with _superuser(postgres_url) as conn:
            conn.execute("SET ROLE orderguard_audit_owner")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute("TRUNCATE audit_entries")

    def test_replica_mode_update_is_refused_by_the_database(self, postgres_url: str) -> None:
        """REFUSED: session_replication_role=replica does not skip ENABLE ALWAYS triggers."""
        filled_log(postgres_url, NoteSigner.generate("k"), 3)
        with _superuser(postgres_url) as conn:
            conn.execute("SET session_replication_role = replica")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute("UPDATE audit_entries SET leaf = leaf || '\\x00'::bytea WHERE idx = 1")

    def test_disabled_triggers_then_update_is_detected_by_verify(self, postgres_url: str) -> None:
        """DETECTED: a superuser who disables the triggers can edit a row, and verify names its index."""
        signer = NoteSigner.generate("k")
        filled_log(postgres_url, signer, 4)
        with _superuser(postgres_url) as conn:
            conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER ALL")
            conn.execute("UPDATE audit_entries SET leaf = leaf || '\\x20'::bytea WHERE idx = 2")
        engine = make_engine(postgres_url)
        report = verify_log(engine, keyset(signer))
        engine.dispose()
        assert report.first_bad is not None
        assert report.first_bad.index == 2

    def test_superuser_truncate_after_disabling_triggers_is_detected(self, postgres_url: str) -> None:
        """DETECTED: after a superuser TRUNCATE (triggers disabled) the checkpoints name the lost entries."""
        signer = NoteSigner.generate("k")
        filled_log(postgres_url, signer, 4)
        with _superuser(postgres_url) as conn:
            conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER ALL")
            conn.execute("TRUNCATE audit_entries")
        engine = make_engine(postgres_url)
        report = verify_log(engine, keyset(signer))
        engine.dispose()
        assert report.first_bad is not None
        assert report.first_bad.index == 0
