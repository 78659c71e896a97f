"""The token desk on both backends: lifecycle rules and an audit entry before each change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.auth.token_desk import Requester, TokenDesk, lifetime_days
from orderguard.auth.tokens import TokenError, TokenService
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade

BOB = Requester("bob", "10.0.0.7", "web:abc")
SOFIA = Requester("sofia", "10.0.0.9", "web:def")


@pytest.fixture
def desk(db_url: str) -> Iterator[TokenDesk]:
    upgrade(db_url)
    engine = make_engine(db_url)
    audit = AuditLog(engine)
    yield TokenDesk(TokenService(engine), audit)
    audit.close()
    engine.dispose()


def _actions(desk: TokenDesk) -> list[tuple[str, str, str]]:
    assert isinstance(desk.audit, AuditLog)
    headers = [decode_leaf(bytes(e[2])).header for e in desk.audit.store.iter_entries()]
    return [(h["action"], h["actor"], h["object_id"]) for h in headers if h["kind"] == "api_token"]


class TestTokenDesk:
    def test_lifecycle_is_audited_in_order(self, desk: TokenDesk) -> None:
        """Issue, rotate and an administrator's revocation each leave one entry, in that order."""
        token = desk.issue(BOB, "feed", "7")
        first = token.split("_")[1]
        replacement = desk.rotate(BOB, first).split("_")[1]
        revoked = desk.revoke(SOFIA, replacement, reason="leaver", any_owner=True)
        assert revoked.principal == "bob"
        assert _actions(desk) == [
            ("created", "bob", first),
            ("key_rotated", "bob", first),
            ("key_revoked", "sofia", replacement),
        ]
        both = desk.tokens.list_all()
        assert [t.lifetime_seconds for t in both] == [7 * 86_400, 7 * 86_400]
        assert all(t.revoked_ns is not None for t in both)

    def test_refusals_change_nothing_and_leave_no_entry(self, desk: TokenDesk) -> None:
        """Someone else's token through the owner path, a revocation of another's token without a
        reason, and an unknown id are refused before anything is written."""
        token_id = desk.issue(BOB, "feed", "never").split("_")[1]
        with pytest.raises(TokenError, match="of sofia"):
            desk.rotate(SOFIA, token_id)
        with pytest.raises(TokenError, match="of sofia"):
            desk.revoke(SOFIA, token_id)
        with pytest.raises(TokenError, match="needs a reason"):
            desk.revoke(SOFIA, token_id, any_owner=True)
        with pytest.raises(TokenError, match="no API token nope"):
            desk.revoke(BOB, "nope")
        assert _actions(desk) == [("created", "bob", token_id)]
        info = desk.tokens.get(token_id)
        assert info is not None
        assert info.revoked_ns is None
        assert info.expires_ns is None


class TestLifetime:
    @pytest.mark.parametrize(("text", "days"), [("1", 1), ("90", 90), ("366", 366), ("never", None)])
    def test_accepted(self, text: str, days: int | None) -> None:
        """Whole days from 1 to 366, or never."""
        assert lifetime_days(text) == days

    @pytest.mark.parametrize("text", ["0", "367", "-5", "ninety", ""])
    def test_refused(self, text: str) -> None:
        """Anything else is an error naming the field."""
        with pytest.raises(TokenError, match=r"^lifetime: "):
            lifetime_days(text)
