"""Everyone's API tokens in pages on both backends: stable order, owner and state filters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderguard.auth.tokens import TokenInfo, TokenService, TokenState
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade


@pytest.fixture
def tokens(db_url: str) -> Iterator[TokenService]:
    upgrade(db_url)
    engine = make_engine(db_url)
    service = TokenService(engine)
    for owner in ("carol", "alice", "bob"):
        for n in range(3):
            service.issue(owner, f"{owner}-{n}")
    yield service
    engine.dispose()


def _all_pages(tokens: TokenService, limit: int, **filters: object) -> list[list[TokenInfo]]:
    pages, after = [], None
    while True:
        found, more = tokens.page(limit=limit, after=after, **filters)  # type: ignore[arg-type]
        pages.append(found)
        if not more:
            return pages
        after = found[-1].key


class TestTokenPages:
    def test_pages_cover_every_token_once_by_owner_then_age(self, tokens: TokenService) -> None:
        """Walking pages of 4 yields all 9 tokens once, by owner then creation, the last page short."""
        pages = _all_pages(tokens, 4)
        assert [len(p) for p in pages] == [4, 4, 1]
        walked = [t.label for p in pages for t in p]
        assert walked == [f"{o}-{n}" for o in ("alice", "bob", "carol") for n in range(3)]

    def test_exact_fit_says_no_more(self, tokens: TokenService) -> None:
        """A page that holds the last token says nothing more follows."""
        found, more = tokens.page(limit=9)
        assert (len(found), more) == (9, False)

    def test_owner_filter(self, tokens: TokenService) -> None:
        """Only the named owner's tokens are listed, in pages."""
        pages = _all_pages(tokens, 2, owner="bob")
        assert [t.label for p in pages for t in p] == ["bob-0", "bob-1", "bob-2"]

    def test_state_filter(self, tokens: TokenService) -> None:
        """Revoked, expired and active tokens are told apart by the state filter."""
        [revoked] = [t for t in tokens.list("alice") if t.label == "alice-1"]
        tokens.revoke(revoked.token_id)
        tokens.issue("dave", "gone", ttl_seconds=1e-9)  # expired a nanosecond after it was made
        by_state = {state: [t.label for t in tokens.page(limit=50, state=state)[0]] for state in TokenState}
        assert by_state[TokenState.REVOKED] == ["alice-1"]
        assert by_state[TokenState.EXPIRED] == ["gone"]
        assert len(by_state[TokenState.ACTIVE]) == 8
        assert "alice-1" not in by_state[TokenState.ACTIVE]
        assert all(t.state(t.created_ns + 10**9) is TokenState.REVOKED for t in tokens.list("alice")[1:2])
