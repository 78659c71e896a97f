"""Logging in as a demo persona and taking the docs' screenshots (ORDERGUARD_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.functional.api.support import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def login(browser: Browser, base_url: str, user: str) -> Page:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    if os.environ.get("ORDERGUARD_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
