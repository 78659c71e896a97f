"""What each demo persona meets in the UI: a menu of pages they may open, firm-time dates, paged
lists, a case page that leads with the alerts, an evidence bundle to download, and refusals in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from orderguard.app import AppContext
from orderguard.audit.bundle import verify_bundle
from tests.browser.support import login

pytestmark = pytest.mark.browser
DASH = "\u2013"  # the en dash of "Alerts 1\u201310 of 24"


def _case_of(ctx: AppContext, subject: str) -> str:
    return next(c.case_id for c in ctx.cases.cases.list_cases(actor="carol") if c.subject == subject)


def _menu(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("header nav a").all_inner_texts()]


class TestMenu:
    def test_menu_offers_only_what_the_user_may_open(self, browser: Browser, base_url: str) -> None:
        """A trader's menu has no alert queue, audit log or policy (they would only meet a refusal);
        a compliance officer's has those but no order entry, with the current page marked."""
        trader = login(browser, base_url, "alice")
        assert _menu(trader) == ["Orders", "Approvals", "Pre-clearance", "API tokens"]
        trader.close()
        officer = login(browser, base_url, "carol")
        assert _menu(officer) == ["Approvals", "Pre-clearance", "Alerts", "Audit log", "Policy", "API tokens"]
        assert officer.locator("header nav a[aria-current=page]").inner_text() == "Alerts"
        officer.close()

    def test_refusal_says_in_words_what_to_do(self, browser: Browser, base_url: str) -> None:
        """A trader who types the audit log's address gets a 403 page that explains the refusal in a
        sentence beside the reason code."""
        page = login(browser, base_url, "alice")
        response = page.goto(base_url + "/audit")
        assert response is not None
        assert response.status == 403
        text = page.locator("main").inner_text()
        assert "Your roles do not allow this" in text
        assert "NOT_AUTHORIZED" in text
        page.close()

    def test_filter_after_the_session_ended_opens_the_login_page(
        self, browser: Browser, base_url: str
    ) -> None:
        """When the session has ended (here: logged out from another tab), picking a filter loads the
        login page as a whole instead of pasting the login form into the alert table."""
        page = login(browser, base_url, "carol")
        csrf = page.input_value("header input[name=csrf_token]")
        ended = page.request.post(base_url + "/logout", form={"csrf_token": csrf}, max_redirects=0)
        assert ended.status == 303
        with page.expect_navigation(url="**/login"):
            page.select_option("select[name=severity]", "high")
        assert page.locator("#alerts").count() == 0
        assert page.locator("input[name=username]").count() == 1
        page.close()


class TestFirmTime:
    def test_dates_are_firm_time_as_in_the_sentences(self, browser: Browser, base_url: str) -> None:
        """The alert queue shows when in the firm's time zone, as the alert's own sentence does, with
        the UTC instant in the tooltip and the zone named in the header."""
        page = login(browser, base_url, "carol")
        assert "times in America/New_York" in page.locator("header").inner_text()
        row = page.locator("table.alerts tbody tr", has_text="kim viewed")
        sentence = row.locator("td").nth(5).inner_text()
        [local] = re.findall(r"at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) firm time", sentence)
        when = row.locator("time")
        assert when.inner_text() == f"{local} EST"
        assert when.get_attribute("title") == "2026-11-21T03:00:00.000000000Z"
        page.close()


class TestAlertPages:
    def test_older_and_newer_links_keep_the_filters(
        self, browser: Browser, base_url: str, demo_ctx: AppContext
    ) -> None:
        """With ten alerts to a page, "Older" leads to the next ten under the same filters and
        "Newer" back; the counts say which alerts are shown."""
        total = len(demo_ctx.cases.alerts.list_alerts(actor="carol"))
        assert total > 20
        page = login(browser, base_url, "carol")
        page.goto(base_url + "/alerts?status=&per_page=10")
        assert page.locator("p.count").inner_text() == f"Alerts 1{DASH}10 of {total}"
        first = page.locator("table.alerts tbody tr").all_inner_texts()
        with page.expect_navigation():
            page.click("nav.pages a[rel=next]")
        assert "page=2" in page.url
        assert "status=&" in page.url
        assert "per_page=10" in page.url
        assert page.locator("p.count").inner_text() == f"Alerts 11{DASH}20 of {total}"
        second = page.locator("table.alerts tbody tr").all_inner_texts()
        assert len(second) == 10
        assert not set(first) & set(second)
        with page.expect_navigation():
            page.click("nav.pages a[rel=prev]")
        assert page.locator("table.alerts tbody tr").all_inner_texts() == first
        with page.expect_response(lambda r: "severity=high" in r.url and "per_page=10" in r.url):
            page.select_option("select[name=severity]", "high")
        page.wait_for_url("**severity=high**")
        assert "per_page=10" in page.url
        page.close()


class TestCasePage:
    def test_a_long_timeline_opens_near_the_alerts(
        self, browser: Browser, base_url: str, demo_ctx: AppContext
    ) -> None:
        """Alice's case leads with alerts, responses, notes and evidence; its long timeline shows
        the entries near the alerts (the alerts' own events marked), the whole window folded away."""
        case_id = _case_of(demo_ctx, "alice")
        whole = len(demo_ctx.cases.cases.timeline(case_id, actor="carol"))
        page = login(browser, base_url, "carol")
        page.goto(f"{base_url}/cases/{case_id}")
        headings = [h.split(" (")[0] for h in page.locator("section h2").all_inner_texts()]
        assert headings[:4] == ["Alerts", "Responses", "Notes", "Evidence"]
        assert headings[4].startswith("Timeline")
        near = page.locator("ol.timeline.near li").count()
        assert 0 < near < whole
        assert page.locator("ol.timeline.near li.key").count() >= 1
        assert page.locator("ol.timeline.all li").count() == whole
        assert not page.locator("ol.timeline.all").is_visible()
        assert page.locator("select[name=disposition]").input_value() == ""
        page.close()

    def test_evidence_bundle_downloads_and_verifies(
        self, browser: Browser, base_url: str, demo_ctx: AppContext, tmp_path: Path
    ) -> None:
        """The "Export evidence bundle" button downloads a bundle that verifies offline against the
        firm's audit key, and the case then lists the alerts' evidence."""
        case_id = _case_of(demo_ctx, "tom")
        page = login(browser, base_url, "carol")
        page.goto(f"{base_url}/cases/{case_id}")
        with page.expect_download() as download:
            page.click("button:has-text('Export evidence bundle')")
        assert download.value.suggested_filename == f"{case_id}-bundle.json"
        saved = tmp_path / "bundle.json"
        download.value.save_as(saved)
        report = verify_bundle(saved, demo_ctx.keys)
        assert report.problems == []
        assert "tom" in {e.get("actor") for e in report.entries}
        page.reload()
        assert page.locator("table.evidence tbody tr").count() >= 1
        page.close()

    def test_legal_hold_from_the_case_page(
        self, browser: Browser, base_url: str, demo_ctx: AppContext
    ) -> None:
        """A legal hold taken from the case page is listed among the responses as active, in words,
        with a form to release it."""
        case_id = _case_of(demo_ctx, "dana")
        page = login(browser, base_url, "carol")
        page.goto(f"{base_url}/cases/{case_id}")
        page.select_option("select[name=kind]", "legal_hold")
        page.fill("form[action$='/respond'] input[name=reason]", "litigation notice 2026-117")
        with page.expect_navigation():
            page.click("button:has-text('Take response')")
        held = page.locator("section li", has_text="litigation notice 2026-117")
        assert held.locator("b").inner_text() == "legal hold"
        assert held.locator(".status").inner_text() == "active"
        assert held.locator("button:has-text('Release')").count() == 1
        page.close()

    def test_assign_then_suspend_shows_on_the_pages(
        self, browser: Browser, base_url: str, demo_ctx: AppContext
    ) -> None:
        """Carol assigns walt's case to sofia (the list offers compliance and security staff, never
        walt), suspends walt, and both show: the case list names the investigator, walt's page says
        suspended."""
        case_id = _case_of(demo_ctx, "walt")
        page = login(browser, base_url, "carol")
        page.goto(f"{base_url}/cases/{case_id}")
        offered = page.locator("select[name=assignee] option").evaluate_all("os => os.map(o => o.value)")
        assert "walt" not in offered
        assert {"carol", "chris", "sofia"} <= set(offered)
        page.select_option("select[name=assignee]", "sofia")
        with page.expect_navigation():
            page.click("form[action$='/assign'] button")
        assert "assigned to sofia" in page.locator("main > p").first.inner_text()
        page.fill("form[action$='/respond'] input[name=reason]", "exported 3,000 records")
        with page.expect_navigation():
            page.click("button:has-text('Take response')")
        page.goto(base_url + "/alerts")
        assert "sofia" in page.locator("table.cases tr", has_text=case_id).inner_text()
        page.goto(base_url + "/subjects/walt")
        assert page.locator("h1 .status.suspended").inner_text() == "suspended"
        page.close()


class TestSubjectPage:
    def test_alerts_and_events_newest_first_in_pages(
        self, browser: Browser, base_url: str, demo_ctx: AppContext
    ) -> None:
        """A person's page lists their alerts, then their events newest first, a hundred to a page."""
        events = len(demo_ctx.events.by_actor("alice"))
        alerts = [s for s in demo_ctx.cases.alerts.list_alerts(actor="carol") if s.alert.actor == "alice"]
        assert events > 100
        page = login(browser, base_url, "carol")
        page.goto(base_url + "/subjects/alice")
        assert page.locator("table.alerts tbody tr").count() == len(alerts)
        assert page.locator("p.count").inner_text().startswith(f"Events 1{DASH}100 of {events}")
        shown = [t.get_attribute("datetime") or "" for t in page.locator("table.events tbody time").all()]
        assert shown == sorted(shown, reverse=True)
        with page.expect_navigation():
            page.click("nav.pages a[rel=next]")
        assert page.locator("p.count").inner_text().startswith(f"Events 101{DASH}{events} of {events}")
        page.close()


class TestAuditor:
    def test_audit_log_lists_entries_newest_first_and_verifies(self, browser: Browser, base_url: str) -> None:
        """The security analyst, as auditor, sees the newest fifty entries, pages to the fifty just
        older (anchored on entry numbers while the log grows) and back, and verifies the whole log."""
        page = login(browser, base_url, "sofia")
        page.goto(base_url + "/audit")
        size = int(page.locator("dl.facts dd").first.inner_text())
        indexes = [int(i) for i in page.locator("table.entries tbody td:first-child").all_inner_texts()]
        assert indexes == list(range(size - 1, size - 51, -1))
        page.click("text=Verify the whole log now")
        page.wait_for_selector("#verify .ok")
        with page.expect_navigation():
            page.click("nav.pages a[rel=next]")
        older = [int(i) for i in page.locator("table.entries tbody td:first-child").all_inner_texts()]
        assert older == list(range(indexes[-1] - 1, indexes[-1] - 51, -1))
        with page.expect_navigation():
            page.click("nav.pages a[rel=prev]")
        back = [int(i) for i in page.locator("table.entries tbody td:first-child").all_inner_texts()]
        assert back == indexes  # the same fifty, though page views have grown the log meanwhile
        page.close()


class TestOwnRequests:
    def test_own_requests_show_what_and_whether_expired(self, browser: Browser, base_url: str) -> None:
        """A trader's own approval requests show the order's fields, and one nobody approved in time
        reads "expired", not "pending"."""
        page = login(browser, base_url, "alice")
        row = page.locator("tr", has_text="DAY-LARGE-3")
        assert "symbol:" in row.inner_text()
        assert row.locator(".status").inner_text() == "expired"
        page.close()
