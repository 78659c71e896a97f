"""List routes in pages: limit and cursor, the next page in the Link and X-Next-Cursor headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderguard.api import create_app
from orderguard.api.paging import NEXT_HEADER, decode_cursor, encode_cursor
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context
from tests.functional.web.support import audit_entries

World = tuple[AppContext, TestClient, dict[str, dict[str, str]]]
LARGE = {
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 20_000,
    "price": 100,
    "venue": "XNYS",
}


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ctx = demo_context(firm, tmp_path_factory.mktemp("paging"))
    headers = {
        p: {"Authorization": f"Bearer {ctx.tokens.issue(p, 'main')}"} for p in ("alice", "bob", "carol")
    }
    for owner in ("alice", "bob", "chris"):
        for n in range(3):
            ctx.tokens.issue(owner, f"{owner}-{n}")
    with TestClient(create_app(ctx)) as client:
        yield ctx, client, headers
    ctx.close()


def _walk(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[list[Any]]:
    """Every page of ``path`` as a client following the Link headers sees them."""
    pages: list[list[Any]] = []
    url: str | None = path
    while url is not None:
        answer = client.get(url, params=params if url == path else None, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        link = answer.headers.get("link")
        assert (link is None) == (answer.headers.get(NEXT_HEADER) is None)
        url = None if link is None else link.split(">", 1)[0].lstrip("<")
        assert link is None or link.endswith('; rel="next"')
    return pages


class TestEveryonesTokens:
    def test_pages_follow_the_link_header(self, world: World) -> None:
        """An administrator's listing in pages of 4 yields every token once, by owner then age."""
        ctx, client, headers = world
        pages = _walk(client, "/api/v1/admin/tokens", headers["carol"], limit=4)
        assert all(len(p) <= 4 for p in pages)
        assert len(pages) > 1
        walked = [(t["owner"], t["token_id"]) for p in pages for t in p]
        everyone = [(t.principal, t.token_id) for t in ctx.tokens.list_all()]
        assert sorted(walked) == sorted(everyone)
        assert len(walked) == len(set(walked))
        assert [o for o, _ in walked] == sorted(o for o, _ in walked)
        assert all("secret" not in str(t) and "og_" not in str(t) for p in pages for t in p)

    def test_owner_and_state_filters(self, world: World) -> None:
        """Filters pick one owner's tokens and those in one state (active, revoked, expired)."""
        ctx, client, headers = world
        revoked = ctx.tokens.list("chris")[0]
        ctx.tokens.revoke(revoked.token_id)
        chris = _walk(client, "/api/v1/admin/tokens", headers["carol"], owner="chris", limit=2)
        assert [t["label"] for p in chris for t in p] == ["chris-0", "chris-1", "chris-2"]
        gone = _walk(client, "/api/v1/admin/tokens", headers["carol"], state="revoked")
        assert [(t["token_id"], t["state"]) for p in gone for t in p] == [(revoked.token_id, "revoked")]
        bad = client.get("/api/v1/admin/tokens", params={"state": "lost"}, headers=headers["carol"])
        assert bad.status_code == 422

    def test_trader_is_refused(self, world: World) -> None:
        """A trader may not list everyone's tokens (403 from Cedar's manage_credentials)."""
        _, client, headers = world
        assert client.get("/api/v1/admin/tokens", headers=headers["bob"]).status_code == 403

    def test_bad_cursor_and_limit_are_refused(self, world: World) -> None:
        """A forged cursor is a 400 BAD_CURSOR naming the parameter; a limit over 1000 is refused."""
        _, client, headers = world
        forged = client.get("/api/v1/admin/tokens", params={"cursor": "abc"}, headers=headers["carol"])
        assert forged.status_code == 400
        assert forged.json()["error"]["code"] == "BAD_CURSOR"
        assert forged.json()["error"]["message"].startswith("cursor: ")
        huge = client.get("/api/v1/admin/tokens", params={"limit": 1001}, headers=headers["carol"])
        assert huge.status_code == 422


class TestOwnTokens:
    def test_own_list_pages_and_shows_only_the_callers(self, world: World) -> None:
        """The caller's own list pages the same way and never shows another person's token."""
        ctx, client, headers = world
        pages = _walk(client, "/api/v1/tokens", headers["alice"], limit=1)
        assert {t["owner"] for p in pages for t in p} == {"alice"}
        assert len(pages) == len(ctx.tokens.list("alice"))


class TestAlertsAndCases:
    def test_alert_pages_join_to_the_whole_queue(self, world: World) -> None:
        """Alerts in pages of 2 are the newest-first queue, each once."""
        _, client, headers = world
        whole = client.get("/api/v1/alerts", params={"limit": 1000}, headers=headers["carol"]).json()
        assert len(whole) > 2, "the demo day should plant a few alerts"
        pages = _walk(client, "/api/v1/alerts", headers["carol"], limit=2)
        assert [a["alert_id"] for p in pages for a in p] == [a["alert_id"] for a in whole]

    def test_only_the_page_shown_is_recorded_as_read(self, world: World) -> None:
        """The audited alert listing names the alerts on the page, not the whole queue."""
        ctx, client, headers = world
        shown = client.get("/api/v1/alerts", params={"limit": 1}, headers=headers["carol"]).json()
        listing = audit_entries(ctx, "alert_list")[-1]
        assert listing["after"]["alerts"] == [shown[0]["alert_id"]]

    def test_case_pages_join_to_the_whole_list(self, world: World) -> None:
        """Cases in pages of 1 are the whole list, oldest first, each once."""
        _, client, headers = world
        whole = client.get("/api/v1/cases", headers=headers["carol"]).json()
        pages = _walk(client, "/api/v1/cases", headers["carol"], limit=1)
        assert [c["case_id"] for p in pages for c in p] == [c["case_id"] for c in whole]
        assert len(pages) == max(1, len(whole))


class TestApprovals:
    def test_my_requests_page_newest_first(self, world: World) -> None:
        """Three requests opened by alice come back one per page, newest first."""
        _, client, headers = world
        opened = []
        for n in range(3):
            body = {"order": {**LARGE, "venue": "XNYS", "order_id": f"T-PAGE-{n}"}}
            answer = client.post("/api/v1/approvals", json=body, headers=headers["alice"])
            opened.append(answer.json()["request"]["request_id"])
        pages = _walk(client, "/api/v1/approvals/mine", headers["alice"], limit=1)
        walked = [r["request_id"] for p in pages for r in p]
        assert walked[:3] == opened[::-1]
        pending = _walk(client, "/api/v1/approvals/pending", headers["carol"], limit=2)
        assert set(opened) <= {r["request_id"] for p in pending for r in p}


def _alert(n: int, ts: int, actor: str = "bob") -> Alert:
    return Alert(
        f"late-{n}", "wash_trade", "low", actor, "AAPL", ts, (f"ev-late-{n}",), "planted late", "alert"
    )


class TestAlertCursors:
    def test_filtered_pages_join_to_the_filtered_queue(self, world: World) -> None:
        """Pages of 1 under a filter are that filter's whole answer, each alert once."""
        _, client, headers = world
        whole = client.get("/api/v1/alerts", params={"limit": 1000}, headers=headers["carol"]).json()
        severity = whole[0]["severity"]
        pages = _walk(client, "/api/v1/alerts", headers["carol"], limit=1, severity=severity)
        assert [a["alert_id"] for p in pages for a in p] == [
            a["alert_id"] for a in whole if a["severity"] == severity
        ]

    def test_inserts_between_pages_neither_repeat_nor_skip(self, world: World) -> None:
        """Alerts stored while a client pages (one newer, one older than every cursor) leave each alert
        there at the start listed once, and the older newcomer is reached too."""
        ctx, client, headers = world
        before = [
            a["alert_id"]
            for a in client.get("/api/v1/alerts", params={"limit": 1000}, headers=headers["carol"]).json()
        ]
        oldest = min(s.alert.ts for s in ctx.cases.store.alerts())
        newest = max(s.alert.ts for s in ctx.cases.store.alerts())
        first = client.get("/api/v1/alerts", params={"limit": 2}, headers=headers["carol"])
        ctx.cases.alerts.ingest([_alert(1, newest + 1), _alert(2, oldest - 1)])
        seen = [a["alert_id"] for a in first.json()]
        cursor = first.headers[NEXT_HEADER]
        while cursor:
            answer = client.get(
                "/api/v1/alerts", params={"limit": 2, "cursor": cursor}, headers=headers["carol"]
            )
            seen += [a["alert_id"] for a in answer.json()]
            cursor = answer.headers.get(NEXT_HEADER)
        assert len(seen) == len(set(seen))
        assert seen == [*before, "late-2"]

    def test_cursor_of_other_filters_is_refused(self, world: World) -> None:
        """A cursor made under other filters, or for the case list, is a 400 BAD_CURSOR naming the cursor."""
        _, client, headers = world
        first = client.get("/api/v1/alerts", params={"limit": 1}, headers=headers["carol"])
        cursor = first.headers[NEXT_HEADER]
        other = client.get(
            "/api/v1/alerts",
            params={"limit": 1, "cursor": cursor, "rule": "front_running"},
            headers=headers["carol"],
        )
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "BAD_CURSOR"
        assert other.json()["error"]["message"].startswith("cursor: ")
        case_cursor = client.get("/api/v1/cases", params={"limit": 1}, headers=headers["carol"]).headers.get(
            NEXT_HEADER
        )
        if case_cursor is not None:
            crossed = client.get("/api/v1/alerts", params={"cursor": case_cursor}, headers=headers["carol"])
            assert crossed.status_code == 400

    @pytest.mark.parametrize(
        "cursor",
        [
            "abc",
            "!!",
            encode_cursor(("alerts:0000000000000000", 1, "a")),
            encode_cursor((1, "a")),
            encode_cursor(("alerts:0000000000000000", 10**30, "a")),
            encode_cursor(("alerts:0000000000000000", 1, "a\x00")),
        ],
    )
    def test_forged_cursor_is_refused(self, world: World, cursor: str) -> None:
        """A cursor not made by this server for this list and filters is a 400 naming the parameter."""
        _, client, headers = world
        for path in ("/api/v1/alerts", "/api/v1/cases"):
            forged = client.get(path, params={"cursor": cursor}, headers=headers["carol"])
            assert forged.status_code == 400, path
            assert forged.json()["error"]["message"].startswith("cursor: ")

    @pytest.mark.parametrize("edit", [(10**30, None), (-(2**63) - 1, None), (None, "a\x00b")])
    def test_edited_cursor_that_cannot_be_bound_is_a_400(
        self, world: World, edit: tuple[int | None, str | None]
    ) -> None:
        """A real cursor edited to a key no database can bind (beyond 64 bits, a NUL) is a 400, not a 500."""
        _, client, headers = world
        cursor = client.get("/api/v1/alerts", params={"limit": 1}, headers=headers["carol"]).headers[
            NEXT_HEADER
        ]
        scope, ts, alert_id = decode_cursor(cursor, (str, int, str))
        ts = ts if edit[0] is None else edit[0]
        alert_id = alert_id if edit[1] is None else edit[1]
        edited = encode_cursor((scope, ts, alert_id))
        answer = client.get("/api/v1/alerts", params={"limit": 1, "cursor": edited}, headers=headers["carol"])
        assert answer.status_code == 400
        assert answer.json()["error"]["message"].startswith("cursor: ")

    def test_time_range_filters_in_sql(self, world: World) -> None:
        """since/until keep alerts in [since, until); a bad time is a 400 naming the parameter."""
        _, client, headers = world
        whole = client.get("/api/v1/alerts", params={"limit": 1000}, headers=headers["carol"]).json()
        times = sorted({a["ts"] for a in whole})
        since, until = times[0], times[-1]
        ranged = client.get(
            "/api/v1/alerts", params={"limit": 1000, "since": since, "until": until}, headers=headers["carol"]
        ).json()
        assert [a["alert_id"] for a in ranged] == [a["alert_id"] for a in whole if since <= a["ts"] < until]
        bad = client.get("/api/v1/alerts", params={"since": "yesterday"}, headers=headers["carol"])
        assert bad.status_code == 400
        assert bad.json()["error"]["message"].startswith("since: ")

    def test_case_list_filters_by_subject(self, world: World) -> None:
        """The case list's subject filter keeps that person's cases only."""
        _, client, headers = world
        whole = client.get("/api/v1/cases", headers=headers["carol"]).json()
        subject = whole[0]["subject"]
        pages = _walk(client, "/api/v1/cases", headers["carol"], limit=1, subject=subject)
        assert [c["case_id"] for p in pages for c in p] == [
            c["case_id"] for c in whole if c["subject"] == subject
        ]
