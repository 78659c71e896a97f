"""The web alert queue reads one numbered page at a time in SQL; filters, counts and links still hold."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from tests.functional.api.support import demo_context
from tests.functional.web.support import audit_entries, logged_in

PROBES = 13
T0 = 1_763_650_000_000_000_000


@pytest.fixture(scope="module")
def ctx(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path_factory.mktemp("queue"))
    probes = [
        Alert(
            f"probe-{n:02d}",
            "paging_probe",
            "low",
            "dave",
            "AAPL",
            T0 + n,
            (f"ev-{n}",),
            f"probe {n:02d}",
            "alert",
        )
        for n in range(PROBES)
    ]
    context.cases.alerts.ingest(probes)
    yield context
    context.close()


def _probes(page: str) -> list[str]:
    return re.findall(r"<td>(probe \d\d)</td>", page)


def _next(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return None if found is None else html.unescape(found.group(1))


class TestAlertQueuePages:
    def test_numbered_pages_walk_the_filtered_queue(self, ctx: AppContext) -> None:
        """Pages of 5 under a rule filter list each probe once, newest first, with the right count line."""
        carol = logged_in(ctx, "carol")
        first = carol.get("/alerts", params={"rule": "paging_probe", "per_page": 5}).text
        assert f"Alerts 1\N{EN DASH}5 of {PROBES}" in first
        seen = _probes(first)
        url = _next(first)
        while url is not None:
            assert "per_page=5" in url
            assert "rule=paging_probe" in url
            answer = carol.get(url).text
            seen += _probes(answer)
            url = _next(answer)
        assert seen == [f"probe {n:02d}" for n in reversed(range(PROBES))]

    def test_only_the_page_is_recorded_as_read(self, ctx: AppContext) -> None:
        """The audited listing names the alerts on the page shown, not the whole queue."""
        carol = logged_in(ctx, "carol")
        carol.get("/alerts", params={"rule": "paging_probe", "per_page": 5, "page": 2})
        listing = audit_entries(ctx, "alert_list")[-1]
        assert listing["after"]["alerts"] == [f"probe-{n:02d}" for n in (7, 6, 5, 4, 3)]

    def test_status_and_page_past_the_end(self, ctx: AppContext) -> None:
        """A status no probe has lists none; a page past the end offers the first page."""
        carol = logged_in(ctx, "carol")
        closed = carol.get("/alerts", params={"rule": "paging_probe", "status": "closed"}).text
        assert _probes(closed) == []
        assert "No alerts match these filters." in closed
        late = carol.get("/alerts", params={"rule": "paging_probe", "per_page": 5, "page": 9}).text
        assert _probes(late) == []
        assert "go to the first page" in late

    def test_filter_choices_and_case_counts(self, ctx: AppContext) -> None:
        """The full page offers the probe rule as a choice and counts dave's case's alerts by rule."""
        carol = logged_in(ctx, "carol")
        full = carol.get("/alerts").text
        assert '<option value="paging_probe"' in full
        row = re.search(
            r"<tr><td class=\"id\"><a href=\"/cases/([^\"]+)\">.*?\(dave\)</td>(.*?)</tr>", full, re.S
        )
        assert row is not None
        dave_alerts = [s for s in ctx.cases.store.alerts() if s.alert.actor == "dave"]
        assert f"<td>{len(dave_alerts)}</td>" in row.group(2)
        assert "paging probe" in row.group(2)

    def test_htmx_swap_is_the_table_only(self, ctx: AppContext) -> None:
        """An htmx filter change gets the table alone (no case list), still one page."""
        carol = logged_in(ctx, "carol")
        swap = carol.get(
            "/alerts", params={"rule": "paging_probe", "per_page": 5}, headers={"hx-request": "true"}
        ).text
        assert "<h2>Cases</h2>" not in swap
        assert len(_probes(swap)) == 5
