"""A revoked API token is not left in the verification cache by a check racing the revocation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from orderguard.auth.tokens import TokenError, TokenService
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade


@pytest.fixture
def tokens(db_url: str) -> Iterator[TokenService]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield TokenService(engine)
    engine.dispose()


class TestRevokeClearsTheCache:
    def test_a_check_before_the_commit_does_not_keep_the_token_alive(self, tokens: TokenService) -> None:
        """A check between the revocation's update and its commit re-caches the token; revoke clears it."""
        token = tokens.issue("bob", "feed")
        tokens.check(token)
        raced: list[bool] = []

        def check_before_commit(conn: Connection) -> None:
            if not raced:  # another request's check, seeing the row not yet revoked
                raced.append(True)
                tokens.check(token)

        event.listen(tokens.engine, "commit", check_before_commit)
        try:
            assert tokens.revoke(token.split("_")[1])
        finally:
            event.remove(tokens.engine, "commit", check_before_commit)
        assert raced
        assert tokens.remembered(token) is None
        with pytest.raises(TokenError, match="revoked"):
            tokens.check(token)
