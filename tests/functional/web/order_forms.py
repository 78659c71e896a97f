"""Helpers for the order and pre-clearance form tests: fill a form as the page offers it."""

from __future__ import annotations

import re

from httpx import Response

from tests.functional.api.client import TestClient
from tests.functional.web.support import csrf_of


def order_form(browser: TestClient) -> tuple[str, str]:
    """The CSRF token and the fresh order id of the Orders page's form."""
    html = browser.get("/orders").text
    found = re.search(r'name="order_id" value="([^"]+)"', html)
    assert found, "the Orders page has no order form"
    return csrf_of(html), found.group(1)


def enter(browser: TestClient, **fields: str) -> tuple[str, Response]:
    """Send the order form with ``fields`` over a small AAPL buy; (order id, response)."""
    csrf, order_id = order_form(browser)
    data = {
        "csrf_token": csrf,
        "order_id": order_id,
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": "buy",
        "qty": "100",
        "price": "190",
        "venue": "XNYS",
        **fields,
    }
    return data["order_id"], browser.post("/orders", data=data)


def answer_of(html: str) -> str:
    """The answer section of a page (what the form's decision was), as text without tags."""
    found = re.search(r'<section class="answer.*?</section>', html, re.S)
    assert found, "the page shows no answer"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())
