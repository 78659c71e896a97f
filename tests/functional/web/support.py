"""Web UI test helpers: a logged-in test browser, the CSRF token of a page, audit entries by kind."""

from __future__ import annotations

import re
from typing import Any

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.audit.encoding import decode_leaf, decode_payload
from orderguard.audit.store import AuditStore
from tests.functional.api.client import TestClient
from tests.functional.api.support import PASSWORD


def logged_in(ctx: AppContext, who: str) -> TestClient:
    """A test browser (redirects not followed) with ``who``'s web session."""
    browser = TestClient(create_app(ctx), follow_redirects=False)
    response = browser.post("/login", data={"username": who, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def audit_entries(ctx: AppContext, kind: str) -> list[dict[str, Any]]:
    """Header and payload fields of every audit entry of ``kind``, oldest first."""
    found = []
    for entry in AuditStore(ctx.engine).iter_entries():
        header = decode_leaf(bytes(entry[2])).header
        if header["kind"] == kind:
            payload = decode_payload(bytes(entry[4])) if entry[4] is not None else {}
            found.append({**header, **payload})
    return found
