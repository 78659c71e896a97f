"""Traders and employees in a real Chromium: order entry, four-eyes on a large order, cancel,
pre-clearance, and the Orders page kept from people without order permission."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from orderguard.app import AppContext
from tests.browser.support import login, shot
from tests.functional.api.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _more_logins(demo_ctx: AppContext) -> None:
    """Tom (another desk) and Ana (analyst) log in too."""
    for principal in ("tom", "ana"):
        demo_ctx.sessions.set_password(principal, PASSWORD)


def _enter(
    page: Page, base_url: str, *, symbol: str, qty: str, price: str, account: str = "C-PENSION-1"
) -> str:
    """Fill and send the order form; the order id the form carried."""
    page.goto(f"{base_url}/orders")
    order_id = page.locator("form.order input[name=order_id]").input_value()
    page.select_option("form.order select[name=account]", account)
    page.fill("form.order input[name=symbol]", symbol)
    page.fill("form.order input[name=qty]", qty)
    page.fill("form.order input[name=price]", price)
    page.select_option("form.order select[name=venue]", "XNYS")
    with page.expect_navigation():
        page.click("button:has-text('Enter order')")
    return order_id


class TestOrderEntry:
    def test_small_order_is_filled(self, browser: Browser, base_url: str) -> None:
        """Alice enters a small order from the Orders menu and sees it filled, with its fills."""
        page = login(browser, base_url, "alice")
        page.click("header nav a:has-text('Orders')")
        page.wait_for_url("**/orders")
        order_id = _enter(page, base_url, symbol="ROKU", qty="300", price="70")
        answer = page.locator("section.answer")
        expect(answer).to_contain_text(f"Filled: order {order_id}")
        assert answer.locator("table.fills tbody tr").count() >= 1
        expect(page.locator(f"#order-{order_id} .status")).to_have_text("executed")
        shot(page, "orders")
        page.close()

    def test_large_order_waits_for_a_second_approver_then_executes(
        self, browser: Browser, base_url: str
    ) -> None:
        """Alice's large order waits for a second approver; Olga approves it in her inbox; Alice
        then sends it and sees it executed."""
        alice = login(browser, base_url, "alice")
        order_id = _enter(alice, base_url, symbol="ROKU", qty="20000", price="70")
        expect(alice.locator("section.answer")).to_contain_text("Waiting for a second approver")
        held = alice.locator(f"#held-{order_id}")
        expect(held).to_contain_text("waiting for a second approver (0 of 1)")
        assert held.locator("button:has-text('Send order')").count() == 0
        shot(alice, "orders-waiting")
        olga = login(browser, base_url, "olga")
        olga.wait_for_url("**/approvals")
        row = olga.locator("tr", has_text=order_id)
        row.locator("button.approve").click()
        olga.wait_for_selector("tr.done:has-text('quorum met')")
        olga.close()
        alice.goto(f"{base_url}/orders")
        expect(alice.locator(f"#held-{order_id} .status")).to_have_text("approved")
        with alice.expect_navigation():
            alice.locator(f"#held-{order_id} button:has-text('Send order')").click()
        expect(alice.locator("section.answer")).to_contain_text(f"Filled: order {order_id}")
        expect(alice.locator(f"#order-{order_id} .status")).to_have_text("executed")
        alice.close()


class TestCancel:
    def test_trader_cannot_cancel_another_traders_order(self, browser: Browser, base_url: str) -> None:
        """Alice pre-clears and enters a personal trade (working); Tom's cancel of it is refused
        with the reason; Alice cancels it herself."""
        alice = login(browser, base_url, "alice")
        alice.goto(f"{base_url}/preclearance")
        alice.fill("form.order input[name=symbol]", "ETSY")
        alice.fill("form.order input[name=qty]", "15")
        with alice.expect_navigation():
            alice.click("button:has-text('Ask for clearance')")
        expect(alice.locator("section.answer")).to_contain_text("Cleared")
        shot(alice, "preclearance")
        order_id = _enter(alice, base_url, symbol="ETSY", qty="15", price="70", account="PA-alice")
        expect(alice.locator("section.answer")).to_contain_text(f"Accepted: order {order_id}")
        tom = login(browser, base_url, "tom")
        tom.goto(f"{base_url}/orders")
        assert tom.locator(f"#order-{order_id}").count() == 0  # not in his list
        csrf = tom.locator("form.order input[name=csrf_token]").input_value()
        refused = tom.request.post(f"{base_url}/orders/{order_id}/cancel", form={"csrf_token": csrf})
        assert refused.status == 403
        assert "NOT_AUTHORIZED" in refused.text()
        tom.close()
        alice.goto(f"{base_url}/orders")
        expect(alice.locator(f"#order-{order_id} .status")).to_have_text("accepted")
        with alice.expect_navigation():
            alice.locator(f"#order-{order_id} button:has-text('Cancel')").click()
        expect(alice.locator("section.answer")).to_contain_text(f"Cancelled: order {order_id}")
        expect(alice.locator(f"#order-{order_id} .status")).to_have_text("cancelled")
        alice.close()


class TestNoOrderPermission:
    def test_analyst_has_no_orders_page(self, browser: Browser, base_url: str) -> None:
        """Ana (analyst) has no Orders link and gets the 403 refusal page on /orders."""
        page = login(browser, base_url, "ana")
        assert page.locator("header nav a:has-text('Orders')").count() == 0
        response = page.goto(f"{base_url}/orders")
        assert response is not None
        assert response.status == 403
        expect(page.locator("section.refused")).to_contain_text("NOT_AUTHORIZED")
        page.close()
