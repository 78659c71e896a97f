"""API tokens and web sessions on both backends (tables from migration 0006_api)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orderguard.auth.sessions import SessionService, csrf_matches
from orderguard.auth.tokens import TokenError, TokenService
from orderguard.storage import make_engine
from orderguard.storage.api_tables import web_credentials
from orderguard.storage.migrate import upgrade


class TestTokenStore:
    def test_issue_check_rotate_revoke(self, db_url: str) -> None:
        """A token checks out until revoked; rotation hands out a working replacement and kills the old."""
        upgrade(db_url)
        engine = make_engine(db_url)
        tokens = TokenService(engine)
        token = tokens.issue("alice", "laptop")
        assert tokens.check(token).principal == "alice"
        replacement = tokens.rotate(token.split("_")[1], principal="alice")
        with pytest.raises(TokenError, match="revoked"):
            tokens.check(token)
        assert tokens.check(replacement).label == "laptop"
        assert not tokens.revoke(replacement.split("_")[1], principal="bob")
        assert tokens.revoke(replacement.split("_")[1], principal="alice")
        with pytest.raises(TokenError):
            tokens.check(replacement)
        with pytest.raises(TokenError, match="unknown"):
            tokens.check(replacement[:-2] + "xx")
        engine.dispose()


class TestSessionStore:
    def test_password_session_and_csrf(self, db_url: str) -> None:
        """Passwords are stored as scrypt hashes; a session resolves until ended; CSRF must match."""
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = SessionService(engine)
        sessions.set_password("carol", "a long passphrase")
        with engine.connect() as conn:
            stored = conn.execute(select(web_credentials.c.password_hash)).scalar_one()
        assert stored.startswith("scrypt$")
        assert "a long passphrase" not in stored
        assert sessions.check_password("carol", "a long passphrase")
        assert not sessions.check_password("carol", "wrong")
        assert not sessions.check_password("nobody", "a long passphrase")
        cookie, session = sessions.start("carol", "127.0.0.1")
        resolved = sessions.resolve(cookie)
        assert resolved is not None
        assert resolved.principal == "carol"
        assert csrf_matches(resolved, session.csrf_token)
        assert not csrf_matches(resolved, "forged")
        sessions.end(cookie)
        assert sessions.resolve(cookie) is None
        engine.dispose()
