"""Everyone's API tokens on the web page: a page at a time, next and first page links, filters."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.web.token_pages import PAGE_SIZE
from tests.functional.api.support import demo_context
from tests.functional.web.support import logged_in


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    for n in range(PAGE_SIZE + 5):
        context.tokens.issue("alice" if n % 2 else "bob", f"feed-{n}")
    yield context
    context.close()


def _listed(page: str) -> list[str]:
    return re.findall(r'id="any-token-([0-9a-f]+)"', page)


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return None if found is None else html.unescape(found.group(1))


class TestEveryonesTokensPage:
    def test_next_and_first_page_links(self, ctx: AppContext) -> None:
        """The first page lists PAGE_SIZE tokens and links the next; that one lists the rest and links
        back to the first; together they hold every token once."""
        carol = logged_in(ctx, "carol")
        first = carol.get("/tokens").text
        assert len(_listed(first)) == PAGE_SIZE
        assert _link(first, "first") is None
        next_url = _link(first, "next")
        assert next_url is not None
        second = carol.get(next_url).text
        assert _link(second, "next") is None
        assert _link(second, "first") == "/tokens"
        walked = _listed(first) + _listed(second)
        assert sorted(walked) == sorted(t.token_id for t in ctx.tokens.list_all())

    def test_filters_keep_to_the_next_page(self, ctx: AppContext) -> None:
        """Filtering by owner lists only theirs, and the filter survives into the next page link."""
        ctx.tokens.revoke(ctx.tokens.list("bob")[0].token_id)
        carol = logged_in(ctx, "carol")
        bobs = carol.get("/tokens", params={"owner": "bob"}).text
        assert set(_listed(bobs)) == {t.token_id for t in ctx.tokens.list("bob")}
        assert _link(bobs, "next") is None
        revoked = carol.get("/tokens", params={"state": "revoked"}).text
        assert _listed(revoked) == [ctx.tokens.list("bob")[0].token_id]
        active = carol.get("/tokens", params={"state": "active"}).text
        next_url = _link(active, "next")
        assert next_url is not None
        assert "state=active" in next_url

    def test_bad_filter_or_cursor_is_named(self, ctx: AppContext) -> None:
        """An unknown state or a forged cursor answers 400 naming the parameter; the page still shows."""
        carol = logged_in(ctx, "carol")
        bad_state = carol.get("/tokens", params={"state": "lost"})
        assert bad_state.status_code == 400
        assert "state: &#39;lost&#39; is not one of active, revoked, expired" in bad_state.text
        forged = carol.get("/tokens", params={"cursor": "zzz"})
        assert forged.status_code == 400
        assert "cursor: " in forged.text
        assert "Your tokens" in forged.text
