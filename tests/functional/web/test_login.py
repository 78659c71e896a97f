"""Logging in: a password, a session cookie, and no login posted from another site (login CSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.api import create_app
from orderguard.api.deps import SESSION_COOKIE
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import PASSWORD, demo_context
from tests.functional.web.support import audit_entries, csrf_of, logged_in

CAROL = {"username": "carol", "password": PASSWORD}


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    yield context
    context.close()


class TestLogin:
    def test_same_site_login_starts_a_session(self, ctx: AppContext) -> None:
        """A login from our own page (Origin is this host) sets an HttpOnly, SameSite=Strict cookie,
        and its audit entry names the session that the following page views carry."""
        browser = TestClient(create_app(ctx), follow_redirects=False)
        headers = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        response = browser.post("/login", data=CAROL, headers=headers)
        assert (response.status_code, response.headers["location"]) == (303, "/alerts")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        browser.get("/alerts")
        [login] = audit_entries(ctx, "login")
        [view] = [e for e in audit_entries(ctx, "api_request") if e["object_id"] == "GET /alerts"]
        assert login["session_id"] == view["session_id"]
        assert login["session_id"].startswith("web:")

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ],
    )
    def test_login_posted_from_another_site_is_refused(
        self, ctx: AppContext, headers: dict[str, str]
    ) -> None:
        """A login whose Origin is another site (or opaque) is refused with 403, no cookie, and audited."""
        browser = TestClient(create_app(ctx), follow_redirects=False)
        response = browser.post("/login", data=CAROL, headers=headers)
        assert response.status_code == 403
        assert "set-cookie" not in response.headers
        assert "posted from another site" in response.text
        [entry] = audit_entries(ctx, "login")
        assert (entry["actor"], entry["action"], entry["reason_code"]) == ("carol", "refused", "CROSS_SITE")

    def test_wrong_password_is_401(self, ctx: AppContext) -> None:
        """A wrong password gets the form again with 401 and no session."""
        browser = TestClient(create_app(ctx), follow_redirects=False)
        response = browser.post("/login", data={"username": "carol", "password": "nope"})
        assert response.status_code == 401
        assert "set-cookie" not in response.headers


class TestLogout:
    def test_logout_ends_the_session_and_is_audited(self, ctx: AppContext) -> None:
        """Logging out needs the CSRF token, ends the session (pages then redirect to /login) and
        leaves an audit entry with the session it ended."""
        browser = logged_in(ctx, "carol")
        assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
        assert browser.get("/alerts").status_code == 200
        csrf = csrf_of(browser.get("/alerts").text)
        out = browser.post("/logout", data={"csrf_token": csrf})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        assert browser.get("/alerts").headers["location"] == "/login"
        ended = [e for e in audit_entries(ctx, "login") if e["action"] == "cancelled"]
        assert [(e["actor"], e["session_id"][:4]) for e in ended] == [("carol", "web:")]
