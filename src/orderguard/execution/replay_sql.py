"""The replay cache in SQLite or PostgreSQL: survives a connector restart (migration 0004_execution)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from orderguard.storage.execution_tables import execution_seen_orders


class SqlReplayCache:
    """Claims are one committed INSERT each: the unique keys on order id and nonce make them atomic."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, order_id: str, nonce: bytes, digest: bytes, expires_ns: int, accepted_ns: int) -> bool:
        row = {
            "order_id": order_id,
            "nonce": nonce,
            "digest": digest,
            "expires_ns": expires_ns,
            "accepted_ns": accepted_ns,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(execution_seen_orders).values(**row))
        except IntegrityError:
            return False
        return True

    def prune(self, now_ns: int) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(execution_seen_orders).where(execution_seen_orders.c.expires_ns < now_ns)
            )
        return int(result.rowcount)
