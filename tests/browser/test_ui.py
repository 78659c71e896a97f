"""The compliance UI in a real Chromium (Debian's /usr/bin/chromium) against a live server."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import login as _login
from tests.browser.support import shot as _shot

pytestmark = pytest.mark.browser


def _pick_severity(page: Page, value: str) -> None:
    """Pick a severity on the alert queue and wait until htmx has swapped in only that severity
    (locator waits: the page's Content-Security-Policy forbids the eval ``wait_for_function`` uses)."""
    with page.expect_response(lambda r: f"severity={value}" in r.url):
        page.select_option("select[name=severity]", value)
    expect(page.locator("table.alerts span.sev").filter(has_not_text=value)).to_have_count(0)


class TestComplianceOfficer:
    def test_sees_alerts_and_opens_a_case(self, browser: Browser, base_url: str) -> None:
        """Carol logs in, lands on the alert queue, filters it and opens a case with timeline and evidence."""
        page = _login(browser, base_url, "carol")
        page.wait_for_url("**/alerts")
        rows = page.locator("table.alerts tbody tr")
        assert rows.count() > 3
        _shot(page, "alerts")
        _pick_severity(page, "high")
        assert set(page.locator("table.alerts span.sev").all_inner_texts()) == {"high"}
        page.locator("table.alerts a[href^='/cases/']").first.click()
        page.wait_for_url("**/cases/*")
        assert page.locator("ol.timeline li").count() >= 1
        assert "Evidence" in page.content()
        page.fill("textarea[name=body]", "Looked at the trades; escalating.")
        with page.expect_navigation():
            page.click("button:has-text('Add note')")
        assert "Looked at the trades; escalating." in page.content()
        with page.expect_navigation():
            page.click("button:has-text('Attach evidence')")
        assert page.locator("table.evidence tbody tr").count() >= 1
        _shot(page, "case")
        for path, name in (("/policy", "policy"), ("/subjects/alice", "subject")):
            page.goto(base_url + path)
            _shot(page, name, full_page=False)
        page.goto(base_url + "/audit")
        page.click("text=Verify the whole log now")
        page.wait_for_selector("#verify .ok")
        _shot(page, "audit", full_page=False)
        page.close()


class TestFourEyes:
    def test_second_approver_approves_a_large_order(self, browser: Browser, base_url: str) -> None:
        """Olga sees alice's large order in her inbox and approves it; the row reports the quorum met."""
        page = _login(browser, base_url, "olga")
        page.wait_for_url("**/approvals")
        row = page.locator("tr", has_text="DEMO-LARGE-1")
        assert row.count() == 1
        _shot(page, "approvals")
        row.locator("button.approve").click()
        page.wait_for_selector("tr.done")
        assert "quorum met" in page.locator("tr.done").inner_text()
        page.close()

    def test_initiator_does_not_see_own_request(self, browser: Browser, base_url: str) -> None:
        """Alice's inbox does not offer her own large order for approval."""
        page = _login(browser, base_url, "alice")
        page.wait_for_url("**/approvals")
        waiting = page.locator("h2", has_text="Waiting for you").inner_text()
        assert "(0)" in waiting
        page.close()


class TestTrader:
    def test_cannot_reach_alert_queue(self, browser: Browser, base_url: str) -> None:
        """A trader opening /alerts gets the refusal page (403) with the reason code."""
        page = _login(browser, base_url, "alice")
        page.wait_for_url("**/approvals")
        response = page.goto(base_url + "/alerts")
        assert response is not None
        assert response.status == 403
        assert "NOT_AUTHORIZED" in page.content()
        assert page.locator("table.alerts").count() == 0
        page.close()


class TestApiTokens:
    def test_security_officer_makes_a_token_and_sees_it_once(self, browser: Browser, base_url: str) -> None:
        """Sofia makes an API token from the menu: the secret is shown once, then only its id is listed;
        she sees everyone's tokens with a revoke button."""
        page = _login(browser, base_url, "sofia")
        page.wait_for_url("**/alerts")
        page.click("nav >> text=API tokens")
        page.wait_for_url("**/tokens")
        page.fill("form.issue input[name=label]", "siem-export")
        with page.expect_navigation():
            page.click("form.issue button[type=submit]")
        secret = page.input_value("input.secret")
        assert secret.startswith("og_")
        token_id = secret.split("_")[1]
        assert page.locator(f"#token-{token_id}").count() == 1
        assert page.locator(f"#any-token-{token_id} button.reject").count() == 1
        _shot(page, "tokens")
        page.goto(base_url + "/tokens")
        assert secret not in page.content()
        assert page.locator("input.secret").count() == 0
        page.close()


class TestPageSecurity:
    def test_pages_run_under_their_content_security_policy(self, browser: Browser, base_url: str) -> None:
        """Every main page loads and works (htmx included) without a console error such as a
        Content-Security-Policy violation, and refuses to be framed."""
        page = _login(browser, base_url, "carol")
        page.wait_for_url("**/alerts")
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        for path in ("/alerts", "/approvals", "/audit", "/policy", "/tokens", "/subjects/alice"):
            response = page.goto(base_url + path)
            assert response is not None
            assert response.status == 200
            assert response.headers["x-frame-options"] == "DENY"
        page.goto(base_url + "/alerts")
        _pick_severity(page, "low")
        assert set(page.locator("table.alerts span.sev").all_inner_texts()) == {"low"}
        assert errors == []
        page.close()
