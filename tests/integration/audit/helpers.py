"""Shared pieces of the audit integration tests: entries, a migrated log, and attacker-side SQL."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from orderguard.audit.checkpoint import Checkpoint
from orderguard.audit.keys import KeySet, NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.domain.audit import AuditAction, AuditEntry
from orderguard.storage.audit_tables import audit_checkpoints
from orderguard.storage.migrate import upgrade


def order_entry(number: int, actor: str = "trader-7") -> AuditEntry:
    """A realistic order-creation entry; ``number`` makes it distinct."""
    return AuditEntry(
        kind="order",
        action=AuditAction.CREATED,
        object_id=f"ord-{number}",
        actor=actor,
        ts=1_763_000_000_000_000_000 + number,
        before=None,
        after={"symbol": "ACME", "side": "buy", "qty": 100 + number, "price": 12.5},
        ip="10.0.0.7",
        session_id="s-1",
        decision="allow",
        reason_code="ALLOWED",
        policy_ids=("p-venue",),
    )


def open_log(url: str, signer: NoteSigner | None = None, migrate: bool = True) -> AuditLog:
    if migrate:
        upgrade(url)
    return AuditLog(url, signer=signer)


def filled_log(url: str, signer: NoteSigner, count: int, *, checkpoint_each: bool = True) -> list[str]:
    """A log of ``count`` entries in one batch, plus a signed checkpoint at every size if asked.

    The checkpoints are written in one transaction (what the background checkpointer would
    produce entry by entry, without a sync per size): tests that locate tampering need them.
    """
    notes: list[str] = []
    # Without a signer the log runs no checkpointer that could race the bulk insert below.
    with open_log(url, None if checkpoint_each else signer) as log:
        log.append_many([order_entry(number) for number in range(count)])
        if checkpoint_each:
            notes = [
                Checkpoint(log.origin, size, log.root_at(size)).sign([signer]) for size in range(1, count + 1)
            ]
            with log.engine.begin() as conn:
                conn.execute(
                    audit_checkpoints.insert(),
                    [
                        {"size": size, "key_name": signer.name, "note": note, "created_at_ns": 0}
                        for size, note in enumerate(notes, start=1)
                    ],
                )
    return notes


def keyset(*signers: NoteSigner) -> KeySet:
    return KeySet([signer.verifier for signer in signers])


def drop_sqlite_triggers(engine: Engine) -> None:
    """What an attacker with the SQLite file does first: remove the append-only triggers."""
    with engine.begin() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
        for name in names:
            conn.execute(text(f'DROP TRIGGER "{name}"'))


def lift_protection(engine: Engine) -> None:
    """Disable the prevention layer as a privileged attacker would, on either backend."""
    if engine.dialect.name == "sqlite":
        drop_sqlite_triggers(engine)
        return
    with engine.begin() as conn:
        for table in ("audit_entries", "audit_payloads", "audit_erasures", "audit_checkpoints"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` (a callable) until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
