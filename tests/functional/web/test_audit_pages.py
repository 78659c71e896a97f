"""The audit page reads its entries as one range: every entry once, newest first, across pages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.web.audit_pages import AUDIT_ENTRIES
from tests.functional.api.support import demo_context
from tests.functional.web.support import logged_in
from tests.integration.audit.helpers import order_entry


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    context.audit.append_many([order_entry(n) for n in range(2 * AUDIT_ENTRIES + 7)])
    yield context
    context.close()


def _indexes(page: str) -> list[int]:
    return [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", page)]


def _older(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return None if found is None else html.unescape(found.group(1))


class TestAuditPage:
    def test_pages_walk_every_entry_once_newest_first(self, ctx: AppContext) -> None:
        """Following the Older links lists each entry of the log once, in descending index order."""
        carol = logged_in(ctx, "carol")
        first = carol.get("/audit")
        assert first.status_code == 200, first.text
        size = ctx.audit.head()[0]
        walked = _indexes(first.text)
        assert walked == list(range(size - 1, size - 1 - AUDIT_ENTRIES, -1))
        url = _older(first.text)
        while url is not None:
            answer = carol.get(url).text
            walked += _indexes(answer)
            url = _older(answer)
        # Each page view is audited, so the log grew meanwhile; the pages were anchored at the first view.
        assert walked == list(range(size - 1, -1, -1))

    def test_before_past_the_end_shows_the_newest(self, ctx: AppContext) -> None:
        """A ``before`` beyond the log's size shows the newest entries instead of an error."""
        carol = logged_in(ctx, "carol")
        size = ctx.audit.head()[0]
        shown = _indexes(carol.get("/audit", params={"before": size + 1000}).text)
        assert shown[0] >= size - 1
        assert len(shown) == AUDIT_ENTRIES
