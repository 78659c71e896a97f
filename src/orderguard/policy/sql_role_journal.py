"""The role-change journal in SQLite or PostgreSQL (table ``role_changes``, migration 0003b)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from orderguard.domain import Role
from orderguard.policy.role_journal import RoleChange, RoleChangeKind
from orderguard.storage.controls_tables import role_changes


class SqlRoleJournal:
    """``RoleJournal`` on a migrated database; each append is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, change: RoleChange) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                role_changes.insert().values(
                    principal=change.principal,
                    change=change.change.value,
                    role=None if change.role is None else change.role.value,
                    actor=change.actor,
                    ts_ns=change.ts,
                    request_id=change.request_id,
                )
            )

    def changes(self) -> list[RoleChange]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(role_changes).order_by(role_changes.c.seq)).mappings().all()
        return [
            RoleChange(
                r["principal"],
                RoleChangeKind(r["change"]),
                None if r["role"] is None else Role(r["role"]),
                r["actor"],
                r["ts_ns"],
                r["request_id"],
            )
            for r in rows
        ]
