"""API tokens from the web UI: owners issue, rotate and revoke their own (secret shown once);
compliance and security revoke anyone's with a reason; CSRF on every form; each change audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context
from tests.functional.web.support import audit_entries, csrf_of, logged_in

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    yield context
    context.close()


def _secret_on(html: str) -> str:
    found = re.search(r'class="secret" readonly value="(og_[^"]+)"', html)
    assert found, "the page shows no new token"
    return found.group(1)


def _me(ctx: AppContext, token: str) -> int:
    """The status of GET /api/v1/me with ``token`` (200 if it authenticates)."""
    with TestClient(create_app(ctx)) as api:
        return int(api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code)


class TestOwnTokens:
    def test_new_token_is_shown_once_and_works(self, ctx: AppContext) -> None:
        """Making a token answers 201 with its secret (not cached); the secret authenticates, the
        next page view no longer shows it, and the database holds only its hash."""
        bob = logged_in(ctx, "bob")
        csrf = csrf_of(bob.get("/tokens").text)
        made = bob.post("/tokens", data={"csrf_token": csrf, "label": "risk-feed", "lifetime": "30"})
        assert made.status_code == 201
        assert made.headers["cache-control"] == "no-store"
        secret = _secret_on(made.text)
        assert _me(ctx, secret) == 200
        later = bob.get("/tokens").text
        assert secret not in later
        assert "risk-feed" in later
        [token] = ctx.tokens.list("bob")
        assert token.expires_ns is not None
        assert abs(token.expires_ns - token.created_ns - 30 * DAY_NS) < DAY_NS // 1000
        with ctx.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT secret_sha256 FROM api_tokens").scalar_one()
        assert secret.split("_", 2)[2] not in stored

    def test_rotate_then_revoke(self, ctx: AppContext) -> None:
        """Rotation shows a working replacement with the same label and lifetime and stops the old
        token; revoking stops the replacement."""
        bob = logged_in(ctx, "bob")
        csrf = csrf_of(bob.get("/tokens").text)
        form = {"csrf_token": csrf, "label": "a", "lifetime": "90"}
        first = _secret_on(bob.post("/tokens", data=form).text)
        first_id = first.split("_")[1]
        rotated = bob.post(f"/tokens/{first_id}/rotate", data={"csrf_token": csrf})
        assert rotated.status_code == 201
        second = _secret_on(rotated.text)
        assert (_me(ctx, first), _me(ctx, second)) == (401, 200)
        old, new = ctx.tokens.list("bob")
        assert new.label == old.label == "a"
        assert new.lifetime_seconds == old.lifetime_seconds == 90 * 86_400
        revoked = bob.post(f"/tokens/{new.token_id}/revoke", data={"csrf_token": csrf})
        assert (revoked.status_code, revoked.headers["location"]) == (303, "/tokens")
        assert _me(ctx, second) == 401

    def test_own_routes_do_not_reach_another_persons_token(self, ctx: AppContext) -> None:
        """A trader cannot rotate or revoke alice's token through the owner routes; it keeps working."""
        alices = ctx.tokens.issue("alice", "laptop")
        token_id = alices.split("_")[1]
        bob = logged_in(ctx, "bob")
        csrf = csrf_of(bob.get("/tokens").text)
        for action in ("rotate", "revoke"):
            refused = bob.post(f"/tokens/{token_id}/{action}", data={"csrf_token": csrf})
            assert refused.status_code == 400
            assert f"no API token {token_id} of bob" in refused.text
        assert _me(ctx, alices) == 200

    def test_bad_input_is_refused_with_the_field(self, ctx: AppContext) -> None:
        """An empty label or a lifetime outside the choices is a 400 naming the field; nothing is made."""
        bob = logged_in(ctx, "bob")
        csrf = csrf_of(bob.get("/tokens").text)
        no_label = bob.post("/tokens", data={"csrf_token": csrf, "label": "  ", "lifetime": "30"})
        assert no_label.status_code == 400
        assert "label: give 1 to 64" in no_label.text
        forever = bob.post("/tokens", data={"csrf_token": csrf, "label": "x", "lifetime": "9999"})
        assert forever.status_code == 400
        assert "lifetime: &#39;9999&#39; is not 1 to 366 days" in forever.text
        assert ctx.tokens.list("bob") == []

    def test_every_form_needs_the_csrf_token(self, ctx: AppContext) -> None:
        """Issue, rotate and revoke without the session's CSRF token are refused and change nothing."""
        token = ctx.tokens.issue("bob", "kept")
        token_id = token.split("_")[1]
        bob = logged_in(ctx, "bob")
        posts = [
            ("/tokens", {"label": "x", "lifetime": "30"}),
            (f"/tokens/{token_id}/rotate", {}),
            (f"/tokens/{token_id}/revoke", {}),
        ]
        for path, form in posts:
            assert bob.post(path, data={**form, "csrf_token": "forged"}).status_code == 403
        assert [t.token_id for t in ctx.tokens.list("bob")] == [token_id]
        assert _me(ctx, token) == 200


class TestAdministration:
    def test_trader_sees_only_their_own_and_cannot_revoke_others(self, ctx: AppContext) -> None:
        """A trader's page has no everyone section; the administrator route refuses them (403)."""
        alices = ctx.tokens.issue("alice", "laptop")
        bob = logged_in(ctx, "bob")
        page = bob.get("/tokens").text
        assert "Everyone's tokens" not in page
        assert "laptop" not in page
        refused = bob.post(
            f"/admin/tokens/{alices.split('_')[1]}/revoke", data={"csrf_token": csrf_of(page), "reason": "r"}
        )
        assert refused.status_code == 403
        assert "NOT_AUTHORIZED" in refused.text
        assert _me(ctx, alices) == 200

    def test_compliance_revokes_anyones_token_with_a_reason(self, ctx: AppContext) -> None:
        """Carol sees alice's token (id, never the secret) and revokes it; without a reason it is refused."""
        alices = ctx.tokens.issue("alice", "laptop")
        token_id = alices.split("_")[1]
        carol = logged_in(ctx, "carol")
        page = carol.get("/tokens").text
        assert f"any-token-{token_id}" in page
        assert alices.split("_", 2)[2] not in page
        csrf = csrf_of(page)
        no_reason = carol.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf, "reason": " "})
        assert no_reason.status_code == 400
        assert "needs a reason" in no_reason.text
        assert _me(ctx, alices) == 200
        done = carol.post(
            f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf, "reason": "laptop stolen"}
        )
        assert done.status_code == 303
        assert _me(ctx, alices) == 401
        again = carol.post(
            f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf, "reason": "laptop stolen"}
        )
        assert again.status_code == 400
        assert "already revoked" in again.text


class TestAudit:
    def test_each_change_is_audited_with_requester_ip_and_session(self, ctx: AppContext) -> None:
        """Issue, rotation and revocation each append an api_token entry naming the token, the
        requester, their IP and web session, and (for an administrator's revocation) the reason."""
        bob = logged_in(ctx, "bob")
        csrf = csrf_of(bob.get("/tokens").text)
        made = _secret_on(bob.post("/tokens", data={"csrf_token": csrf, "label": "a", "lifetime": "30"}).text)
        rotated = _secret_on(bob.post(f"/tokens/{made.split('_')[1]}/rotate", data={"csrf_token": csrf}).text)
        carol = logged_in(ctx, "carol")
        revoke_url = f"/admin/tokens/{rotated.split('_')[1]}/revoke"
        carol.post(revoke_url, data={"csrf_token": csrf_of(carol.get("/tokens").text), "reason": "leaver"})
        entries = audit_entries(ctx, "api_token")
        assert [(e["action"], e["actor"], e["object_id"]) for e in entries] == [
            ("created", "bob", made.split("_")[1]),
            ("key_rotated", "bob", made.split("_")[1]),
            ("key_revoked", "carol", rotated.split("_")[1]),
        ]
        assert entries[1]["after"]["replacement"] == rotated.split("_")[1]
        assert entries[2]["after"] == {"owner": "bob", "reason": "leaver"}
        assert all(e["ip"] == "testclient" and e["session_id"].startswith("web:") for e in entries)
        assert all(made not in str(e) and rotated not in str(e) for e in entries)
