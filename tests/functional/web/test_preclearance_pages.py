"""The Pre-clearance page: employees ask to trade personally (the firm's rules decide at once,
audited with the web caller), see their requests and where they stand; compliance sees everyone's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context
from tests.functional.web.order_forms import answer_of
from tests.functional.web.support import audit_entries, csrf_of, logged_in


@pytest.fixture(scope="module")
def ctx(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """One world for the module (building one is the slow part): each test asks about its own symbol."""
    context = demo_context(firm, tmp_path_factory.mktemp("preclearance"), day=False)
    yield context
    context.close()


def _ask(browser: TestClient, **fields: str) -> tuple[int, str]:
    html = browser.get("/preclearance").text
    data = {"csrf_token": csrf_of(html), "account": "PA-alice", "symbol": "KO", "side": "buy", "qty": "20"}
    answer = browser.post("/preclearance", data={**data, **fields})
    return answer.status_code, answer.text


class TestAsk:
    def test_cleared_request_is_shown_and_audited(self, ctx: AppContext) -> None:
        """A request the rules allow is cleared (one trade, 24 h), listed as cleared, and audited
        with the employee's IP and web session."""
        alice = logged_in(ctx, "alice")
        status, html = _ask(alice, symbol="ko")
        assert status == 200
        assert answer_of(html).startswith("Cleared: you may buy up to 20 KO in PA-alice")
        record = ctx.controls.preclearance.history("alice")[-1]
        assert record.allowed
        assert record.symbol == "KO"
        assert f'id="pc-{record.request_id}"' in html
        [entry] = [e for e in audit_entries(ctx, "preclearance") if e["object_id"] == record.request_id]
        assert entry["actor"] == "alice"
        assert str(entry["session_id"]).startswith("web:")

    def test_restricted_symbol_is_not_cleared(self, ctx: AppContext) -> None:
        """A symbol on the restricted list is refused with its reason code and sentence; the form
        keeps what was asked."""
        status, html = _ask(logged_in(ctx, "alice"), symbol="NBSC")
        assert status == 200
        text = answer_of(html)
        assert text.startswith("Not cleared")
        assert "RESTRICTED_SYMBOL" in text
        assert 'name="symbol" value="NBSC"' in html
        record = ctx.controls.preclearance.history("alice")[-1]
        assert record.symbol == "NBSC"
        assert not record.allowed

    def test_someone_elses_account_is_refused(self, ctx: AppContext) -> None:
        """Asking for another employee's personal account is refused by the rules (and recorded)."""
        _, html = _ask(logged_in(ctx, "alice"), account="PA-bob")
        assert "NOT_AUTHORIZED" in answer_of(html)

    def test_bad_fields_are_named_and_nothing_is_asked(self, ctx: AppContext) -> None:
        """Invalid fields answer 422 naming each field and its fix; no request is stored or audited."""
        asked, audited = len(ctx.controls.preclearance.history()), len(audit_entries(ctx, "preclearance"))
        status, html = _ask(logged_in(ctx, "alice"), qty="0", symbol="")
        assert status == 422
        text = answer_of(html)
        assert "Quantity must be more than 0" in text
        assert "Symbol is required" in text
        assert len(ctx.controls.preclearance.history()) == asked
        assert len(audit_entries(ctx, "preclearance")) == audited


class TestReview:
    def test_compliance_sees_everyones_requests(self, ctx: AppContext) -> None:
        """Carol (compliance) lists every employee's requests with who asked; Alice sees only her own."""
        _ask(logged_in(ctx, "alice"), symbol="PEP")
        _ask(logged_in(ctx, "bob"), account="PA-bob", symbol="NBSC")
        carol = logged_in(ctx, "carol")
        everyone = carol.get("/preclearance?scope=all")
        assert everyone.status_code == 200
        assert 'href="/subjects/alice"' in everyone.text
        assert 'href="/subjects/bob"' in everyone.text
        assert "RESTRICTED_SYMBOL" in everyone.text
        bobs = ctx.controls.preclearance.history("bob")[-1].request_id
        assert f'id="pc-{bobs}"' in everyone.text
        alice = logged_in(ctx, "alice")
        assert alice.get("/preclearance?scope=all").status_code == 403
        assert f'id="pc-{bobs}"' not in alice.get("/preclearance").text

    def test_without_personal_account_there_is_no_form(self, ctx: AppContext) -> None:
        """Someone with no personal account is told so instead of being offered a form."""
        html = logged_in(ctx, "carol").get("/preclearance").text
        assert "no personal account" in html
        assert 'action="/preclearance"' not in html
