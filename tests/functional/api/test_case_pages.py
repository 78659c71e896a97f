"""The case page's block and release controls: a compliance officer blocks an order pattern and
releases it from the web UI (session + CSRF), with the same rules as the API."""

from __future__ import annotations

import re
from pathlib import Path

from tests.functional.api.client import TestClient
from tests.functional.api.scan_world import ApiWorld, api_world
from tests.functional.api.support import PASSWORD
from tests.functional.web.support import csrf_of, logged_in


def browser_for(world: ApiWorld, who: str) -> TestClient:
    world.ctx.sessions.set_password(who, PASSWORD)
    return logged_in(world.ctx, who)


class TestBlockFromTheCasePage:
    def test_block_then_release(self, tmp_path: Path) -> None:
        """chris blocks alice's MSFT orders from her case page (her MSFT orders are then refused,
        AAPL ones not), the page offers a release, and releasing with a reason lifts the block."""
        with api_world(tmp_path, scan=True) as world:
            assert world.ctx.cases is not None
            state = world.ctx.cases.state
            case_id = world.case_of("alice")
            browser = browser_for(world, "chris")
            csrf = csrf_of(browser.get(f"/cases/{case_id}").text)
            form = {"csrf_token": csrf, "symbol": "MSFT", "reason": "viewed MSFT records at night"}
            blocked = browser.post(f"/cases/{case_id}/block", data=form)
            assert (blocked.status_code, blocked.headers["location"]) == (303, f"/cases/{case_id}")
            assert state.check_order("alice", symbol="MSFT").reason.value == "PATTERN_BLOCKED"
            assert state.check_order("alice", symbol="AAPL").allowed
            shown = browser.get(f"/cases/{case_id}").text
            assert "actor=alice, symbol=MSFT" in shown
            [release_url] = re.findall(r'action="(/responses/rsp-[0-9a-f]+/release)"', shown)
            released = browser.post(
                release_url, data={"csrf_token": csrf, "reason": "explained by her manager"}
            )
            assert released.status_code == 303
            assert state.check_order("alice", symbol="MSFT").allowed
            assert "explained by her manager" in browser.get(f"/cases/{case_id}").text

    def test_refusals_on_the_page(self, tmp_path: Path) -> None:
        """A block naming nothing is a 400 page; a trader posting a release gets the 403 page; a
        form without the session's CSRF token is refused."""
        with api_world(tmp_path, scan=True) as world:
            case_id = world.case_of("alice")
            chris = browser_for(world, "chris")
            csrf = csrf_of(chris.get(f"/cases/{case_id}").text)
            empty = chris.post(f"/cases/{case_id}/block", data={"csrf_token": csrf, "reason": "r"})
            assert empty.status_code == 400
            assert "a block names a symbol, account or venue" in empty.text
            forged = chris.post(
                f"/cases/{case_id}/block", data={"csrf_token": "x", "symbol": "MSFT", "reason": "r"}
            )
            assert forged.status_code == 403
            bob = browser_for(world, "bob")
            bob_csrf = csrf_of(bob.get("/approvals").text)
            refused = bob.post("/responses/rsp-0/release", data={"csrf_token": bob_csrf, "reason": "r"})
            assert refused.status_code == 403
            assert "NOT_AUTHORIZED" in refused.text
