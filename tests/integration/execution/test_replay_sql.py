"""The persisted replay cache on SQLite and PostgreSQL: replays stay refused across a connector restart."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from orderguard.execution.replay_sql import SqlReplayCache
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.execution_support import World


@pytest.fixture
def engine(db_url: str) -> Engine:
    upgrade(db_url)
    return make_engine(db_url)


class TestSqlReplayCache:
    def test_order_id_and_nonce_are_each_claimed_once(self, engine: Engine) -> None:
        """A second claim of an order id, or of a nonce, is refused; unrelated claims succeed."""
        cache = SqlReplayCache(engine)
        assert cache.claim("ORD-1", b"n" * 16, b"d" * 32, 100, 1)
        assert not cache.claim("ORD-1", b"m" * 16, b"d" * 32, 100, 1)
        assert not cache.claim("ORD-2", b"n" * 16, b"d" * 32, 100, 1)
        assert cache.claim("ORD-2", b"m" * 16, b"d" * 32, 100, 1)

    def test_prune_forgets_only_expired_orders(self, engine: Engine) -> None:
        """Pruning at time t forgets orders that expired before t."""
        cache = SqlReplayCache(engine)
        cache.claim("ORD-OLD", b"a" * 16, b"d" * 32, 50, 1)
        cache.claim("ORD-NEW", b"b" * 16, b"d" * 32, 150, 1)
        assert cache.prune(100) == 1
        assert cache.claim("ORD-OLD", b"a" * 16, b"d" * 32, 50, 1)
        assert not cache.claim("ORD-NEW", b"b" * 16, b"d" * 32, 150, 1)

    def test_a_replay_after_a_connector_restart_is_refused(
        self, firm: FirmConfig, engine: Engine, db_url: str
    ) -> None:
        """A connector rebuilt on the same database still refuses an envelope the old one accepted."""
        world = World(firm, replay=SqlReplayCache(engine))
        envelope = world.envelope()
        assert world.connector.handle(envelope).accepted
        engine.dispose()
        restarted = World(
            firm,
            replay=SqlReplayCache(make_engine(db_url)),
            records=world.records,
            private=world.private,
            directory=world.directory,
        )
        restarted.clock.advance(0.001)
        result = restarted.connector.handle(envelope)
        assert result.decision.reason is ReasonCode.REPLAYED
        assert restarted.audit.last.reason_code == "REPLAYED"
