"""Audit: the append-only Merkle log tables and their prevention layer.

Revision ID: 0002_audit
Revises: 0000_base

On both backends triggers refuse UPDATE and DELETE (a payload may be deleted
only after its erasure is recorded). On PostgreSQL the triggers are set
ENABLE ALWAYS so ``session_replication_role = replica`` does not skip them,
a statement trigger refuses TRUNCATE, the tables belong to the NOLOGIN role
``orderguard_audit_owner`` and the application role ``orderguard_audit_writer``
gets INSERT and SELECT only. Roles are cluster-wide, so they are created only
if missing: several databases in one cluster can each run this migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0000_base"
branch_labels = ("audit",)
depends_on = None

OWNER = "orderguard_audit_owner"
WRITER = "orderguard_audit_writer"
TABLES = ("audit_entries", "audit_payloads", "audit_erasures", "audit_checkpoints")
_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create_tables() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("idx", _INDEX, nullable=False, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_audit_entries"),
    )
    op.create_table(
        "audit_payloads",
        sa.Column("idx", _INDEX, nullable=False, autoincrement=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_audit_payloads"),
    )
    op.create_table(
        "audit_erasures",
        sa.Column("idx", _INDEX, nullable=False, autoincrement=False),
        sa.Column("erasure_idx", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_audit_erasures"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("key_name", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("size", "key_name", name="pk_audit_checkpoints"),
    )


def _sqlite_triggers() -> None:
    for table in TABLES:
        for verb in ("UPDATE", "DELETE"):
            guard = ""
            if table == "audit_payloads" and verb == "DELETE":
                guard = "WHEN NOT EXISTS (SELECT 1 FROM audit_erasures e WHERE e.idx = OLD.idx) "
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} {guard}"
                f"BEGIN SELECT RAISE(ABORT, 'orderguard: {table} is append-only, {verb} refused'); END"
            )


_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION orderguard_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'orderguard: % is append-only, % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION orderguard_audit_payload_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_erasures e WHERE e.idx = OLD.idx) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'orderguard: audit_payloads row % has no recorded erasure, % refused', OLD.idx, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _create_role(name: str) -> str:
    return (
        f"DO $$ BEGIN CREATE ROLE {name} NOLOGIN; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )


def _postgres_prevention() -> None:
    op.execute(_create_role(OWNER))
    op.execute(_create_role(WRITER))
    op.execute(_PG_FUNCTIONS)
    for table in TABLES:
        row_function = (
            "orderguard_audit_payload_delete" if table == "audit_payloads" else "orderguard_audit_refuse"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {row_function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION orderguard_audit_refuse()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_change")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
        op.execute(f"ALTER TABLE {table} OWNER TO {OWNER}")
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {WRITER}")
    # Erasure deletes a payload row; the trigger above lets it through only after audit_erasures has the row.
    op.execute(f"GRANT DELETE ON audit_payloads TO {WRITER}")
    for function in ("orderguard_audit_refuse", "orderguard_audit_payload_delete"):
        op.execute(f"ALTER FUNCTION {function}() OWNER TO {OWNER}")


def upgrade() -> None:
    """Create the audit tables, then the backend's prevention layer."""
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_prevention()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    """Drop the audit tables (roles stay: they are cluster-wide and other databases may use them)."""
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS orderguard_audit_refuse()")
        op.execute("DROP FUNCTION IF EXISTS orderguard_audit_payload_delete()")
