"""The Orders page: order entry through the same desk and gate as the API (decision in plain words,
audited with the web caller), large orders held for a second approver, my orders paged, cancel."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from orderguard.app import AppContext
from orderguard.approvals.model import SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import Side
from orderguard.gateway.orders import OrderTicket
from tests.functional.api.support import PASSWORD, demo_context
from tests.functional.web.order_forms import answer_of, enter, order_form
from tests.functional.web.support import audit_entries, csrf_of, logged_in


@pytest.fixture(scope="module")
def ctx(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """One world for the module (building one is the slow part): each test uses its own order ids."""
    context = demo_context(firm, tmp_path_factory.mktemp("orders"), day=False)
    context.sessions.set_password("ana", PASSWORD)
    context.sessions.set_password("tom", PASSWORD)
    yield context
    context.close()


def _order_entries(ctx: AppContext, order_id: str) -> list[dict[str, object]]:
    return [e for e in audit_entries(ctx, "order") if e["object_id"] == order_id]


class TestEnterOrder:
    def test_small_order_is_filled_and_audited_with_the_web_session(self, ctx: AppContext) -> None:
        """A small order is accepted, filled and shown with its fills; the gate's audit entry names
        the trader, their IP and their web session, as for an API order."""
        alice = logged_in(ctx, "alice")
        order_id, answer = enter(alice)
        assert answer.status_code == 200
        text = answer_of(answer.text)
        assert text.startswith(f"Filled: order {order_id}")
        assert f"XNYS-{order_id}-fill-1" in text
        booked = ctx.book.get(order_id)
        assert booked is not None
        assert booked.status == "executed"
        assert booked.ticket.actor == "alice"
        [entry] = _order_entries(ctx, order_id)
        assert entry["actor"] == "alice"
        assert entry["decision"] == "allow"
        assert entry["ip"] == "testclient"
        assert str(entry["session_id"]).startswith("web:")

    def test_refused_order_shows_reason_and_keeps_the_form(self, ctx: AppContext) -> None:
        """An order to a venue off the allowlist is refused with its reason code, audited as
        refused, and the form keeps what was typed under a new order id."""
        alice = logged_in(ctx, "alice")
        order_id, answer = enter(alice, venue="DARK-X", symbol="IBM")
        assert "Refused" in answer_of(answer.text)
        assert "VENUE_NOT_APPROVED" in answer_of(answer.text)
        [entry] = _order_entries(ctx, order_id)
        assert entry["decision"] == "deny"
        assert entry["reason_code"] == "VENUE_NOT_APPROVED"
        assert 'name="symbol" value="IBM"' in answer.text
        assert f'name="order_id" value="{order_id}"' not in answer.text

    def test_bad_fields_are_named_and_nothing_is_stored(self, ctx: AppContext) -> None:
        """Invalid fields answer 422 naming each field and its fix; no order is booked or audited."""
        alice = logged_in(ctx, "alice")
        before = len(audit_entries(ctx, "order"))
        order_id, answer = enter(alice, qty="-5", price="abc", side="hold", symbol="AA PL")
        assert answer.status_code == 422
        text = answer_of(answer.text)
        for message in (
            "Quantity must be more than 0",
            "Limit price must be a number",
            "Side must be buy or sell",
            "Symbol may hold only letters, digits",
        ):
            assert message in text
        assert ctx.book.get(order_id) is None
        assert len(audit_entries(ctx, "order")) == before

    def test_resending_the_same_form_is_refused_as_a_replay(self, ctx: AppContext) -> None:
        """The form's order id is reserved once: sending the same form again does not enter a second order."""
        alice = logged_in(ctx, "alice")
        csrf, order_id = order_form(alice)
        data = {"csrf_token": csrf, "order_id": order_id, "account": "C-PENSION-1", "symbol": "MSFT"}
        data.update({"side": "buy", "qty": "10", "price": "400", "venue": "XNAS"})
        assert "Filled" in answer_of(alice.post("/orders", data=data).text)
        again = answer_of(alice.post("/orders", data=data).text)
        assert "REPLAYED" in again
        assert len([b for b in ctx.book.all() if b.ticket.order_id == order_id]) == 1

    def test_form_without_csrf_token_is_refused(self, ctx: AppContext) -> None:
        """A cross-site form post (no CSRF token) is refused with 403 and enters nothing."""
        alice = logged_in(ctx, "alice")
        _, order_id = order_form(alice)
        data = {"order_id": order_id, "account": "C-PENSION-1", "symbol": "AAPL", "side": "buy"}
        answer = alice.post("/orders", data={**data, "qty": "1", "price": "1", "venue": "XNYS"})
        assert answer.status_code == 403
        assert ctx.book.get(order_id) is None


class TestWhoSeesOrders:
    def test_trader_sees_orders_in_the_menu(self, ctx: AppContext) -> None:
        """A trader's menu has Orders and Pre-clearance; the form offers only allowlisted venues."""
        html = logged_in(ctx, "alice").get("/orders").text
        assert 'href="/orders"' in html
        assert 'href="/preclearance"' in html
        assert 'value="XNYS"' in html
        assert 'value="DARK-X"' not in html
        assert 'value="C-FAMILY-1"' not in html  # another desk's client

    @pytest.mark.parametrize("who", ["ana", "carol"])
    def test_non_trader_has_no_orders_page(self, ctx: AppContext, who: str) -> None:
        """An analyst or a compliance officer has no Orders link and gets 403 on the page and the form,
        the refusal audited; nothing is entered."""
        browser = logged_in(ctx, who)
        page = browser.get("/approvals").text
        assert 'href="/orders"' not in page
        assert browser.get("/orders").status_code == 403
        answer = browser.post(
            "/orders",
            data={"csrf_token": csrf_of(page), "order_id": "web-sneak", "account": "PA-ana", "symbol": "IBM"}
            | {"side": "buy", "qty": "1", "price": "1", "venue": "XNYS"},
        )
        assert answer.status_code == 403
        assert ctx.book.get("web-sneak") is None
        refusals = [e for e in audit_entries(ctx, "api_request") if e["object_id"] == "POST /orders"]
        assert refusals
        assert refusals[-1]["decision"] == "deny"
        assert refusals[-1]["actor"] == who


class TestLargeOrder:
    def test_waits_for_a_second_approver_then_is_sent(self, ctx: AppContext) -> None:
        """A large order is held for approval (not entered); the trader cannot approve it; once Olga
        approves in her inbox, the trader sends it and it executes, the audit entry naming Olga."""
        alice = logged_in(ctx, "alice")
        order_id, answer = enter(alice, qty="10000")
        text = answer_of(answer.text)
        assert text.startswith("Waiting for a second approver")
        assert ctx.book.get(order_id) is None
        request = ctx.controls.approvals.store.by_object(SensitiveAction.LARGE_ORDER, order_id)
        assert request is not None
        assert request.initiator == "alice"
        assert request.id in text
        csrf = csrf_of(answer.text)
        early = alice.post(f"/orders/{order_id}/send", data={"csrf_token": csrf})
        assert early.status_code == 409
        assert ctx.book.get(order_id) is None
        own = alice.post(
            f"/approvals/{request.id}/approve", data={"csrf_token": csrf, "digest": request.digest}
        )
        assert own.status_code == 403  # a trader is no approver, and never of their own order
        own_request = ctx.controls.approvals.store.get(request.id)
        assert own_request is not None
        assert not own_request.quorum_met
        olga = logged_in(ctx, "olga")
        inbox = olga.get("/approvals").text
        assert order_id in inbox
        voted = olga.post(
            f"/approvals/{request.id}/approve", data={"csrf_token": csrf_of(inbox), "digest": request.digest}
        )
        assert "quorum met" in voted.text
        page = alice.get("/orders").text
        assert re.search(rf'id="held-{order_id}".*?Send order', page, re.S)
        sent = alice.post(f"/orders/{order_id}/send", data={"csrf_token": csrf})
        assert answer_of(sent.text).startswith(f"Filled: order {order_id}")
        [entry] = _order_entries(ctx, order_id)
        assert entry["actor"] == "alice"
        assert str(entry["session_id"]).startswith("web:")
        assert entry["after"]["approval"]["approvers"] == ["olga"]  # type: ignore[index]

    def test_sending_the_form_again_opens_no_second_request(self, ctx: AppContext) -> None:
        """A large order's form sent twice shows the one request already waiting; no second is opened."""
        alice = logged_in(ctx, "alice")
        csrf, order_id = order_form(alice)
        data = {"csrf_token": csrf, "order_id": order_id, "account": "C-HEDGE-1", "symbol": "NVDA"}
        data.update({"side": "buy", "qty": "20000", "price": "130", "venue": "XNAS"})
        first = answer_of(alice.post("/orders", data=data).text)
        again = answer_of(alice.post("/orders", data=data).text)
        assert again.startswith("Waiting for a second approver")
        requests = [r for r in ctx.controls.approvals.store.requests() if r.object_id == order_id]
        assert len(requests) == 1
        assert requests[0].id in first
        assert requests[0].id in again
        assert ctx.book.get(order_id) is None

    def test_another_trader_cannot_send_it(self, ctx: AppContext) -> None:
        """Only the trader who entered a held large order can send it."""
        alice = logged_in(ctx, "alice")
        order_id, _ = enter(alice, qty="10000")
        bob = logged_in(ctx, "bob")
        csrf, _ = order_form(bob)
        assert bob.post(f"/orders/{order_id}/send", data={"csrf_token": csrf}).status_code == 404


class TestMyOrders:
    def test_lists_only_my_orders_newest_first_in_pages(self, ctx: AppContext) -> None:
        """My orders shows the trader's own orders, newest first, 25 to a page, with a link to the next."""
        start = ctx.clock()
        for n in range(27):
            ticket = OrderTicket(
                f"TOM-{n:02d}", "tom", "C-FAMILY-1", "IBM", Side.BUY, 1, 200.0, "XNYS", start + n
            )
            ctx.orders.submit(ticket)
        ctx.orders.submit(
            OrderTicket("ALICES-1", "alice", "C-PENSION-1", "IBM", Side.BUY, 1, 200.0, "XNYS", start)
        )
        tom = logged_in(ctx, "tom")
        first = tom.get("/orders").text
        assert re.findall(r'id="order-([^"]+)"', first) == [f"TOM-{n:02d}" for n in range(26, 1, -1)]
        assert 'href="/orders?page=2"' in first
        second = tom.get("/orders?page=2").text
        assert re.findall(r'id="order-([^"]+)"', second) == ["TOM-01", "TOM-00"]


class TestCancel:
    def _personal_order(self, ctx: AppContext) -> str:
        """Alice's cleared personal trade: accepted and still working (it runs at her broker)."""
        alice = logged_in(ctx, "alice")
        html = alice.get("/preclearance").text
        data = {
            "csrf_token": csrf_of(html),
            "account": "PA-alice",
            "symbol": "KO",
            "side": "buy",
            "qty": "20",
        }
        assert "Cleared" in answer_of(alice.post("/preclearance", data=data).text)
        order_id, answer = enter(alice, account="PA-alice", symbol="KO", qty="20", price="60")
        assert answer_of(answer.text).startswith(f"Accepted: order {order_id}")
        assert "personal trade" in answer_of(answer.text)
        return order_id

    def test_trader_cancels_own_working_order(self, ctx: AppContext) -> None:
        """A working order has a Cancel button; cancelling it is audited and it shows as cancelled."""
        order_id = self._personal_order(ctx)
        alice = logged_in(ctx, "alice")
        page = alice.get("/orders").text
        assert re.search(rf'action="/orders/{order_id}/cancel"', page)
        done = alice.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 200
        assert "Cancelled" in answer_of(done.text)
        booked = ctx.book.get(order_id)
        assert booked is not None
        assert booked.status == "cancelled"
        [_, cancel] = _order_entries(ctx, order_id)
        assert cancel["action"] == "cancelled"
        assert str(cancel["session_id"]).startswith("web:")

    def test_another_trader_cannot_cancel_it(self, ctx: AppContext) -> None:
        """Bob's cancel of Alice's order is refused (403, reason shown), audited with his session,
        and the order keeps working."""
        order_id = self._personal_order(ctx)
        bob = logged_in(ctx, "bob")
        csrf, _ = order_form(bob)
        refused = bob.post(f"/orders/{order_id}/cancel", data={"csrf_token": csrf})
        assert refused.status_code == 403
        assert "NOT_AUTHORIZED" in answer_of(refused.text)
        booked = ctx.book.get(order_id)
        assert booked is not None
        assert booked.status == "accepted"
        last = _order_entries(ctx, order_id)[-1]
        assert last["actor"] == "bob"
        assert last["decision"] == "deny"
        assert str(last["session_id"]).startswith("web:")

    def test_filled_order_offers_no_cancel(self, ctx: AppContext) -> None:
        """An executed order has nothing left working: no Cancel button on it."""
        alice = logged_in(ctx, "alice")
        order_id, _ = enter(alice)
        assert f'action="/orders/{order_id}/cancel"' not in alice.get("/orders").text
