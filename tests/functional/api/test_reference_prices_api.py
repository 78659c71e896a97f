"""POST /api/v1/reference-prices: the market-data feed, through the real app on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, format_ts
from orderguard.gateway.reference_store import SqlReferenceStore
from tests.functional.redteam_world import ORDER, World, red_team_world, submit

URL = "/api/v1/reference-prices"
DUMP: dict[str, Any] = {**ORDER, "order_id": "DUMP", "side": "sell", "qty": 9_000_000, "price": 0.10}


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("reference-prices-api")
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


def row(world: World, symbol: str, price: object) -> dict[str, object]:
    return {"symbol": symbol, "price": price, "ts": format_ts(world.clock.now)}


def stored(world: World) -> dict[str, float]:
    return {u.symbol: u.price for u in SqlReferenceStore(world.ctx.engine).all() if u.kind == "market"}


class TestFeed:
    def test_the_feed_stores_a_batch_audited_first(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """adam posts two prices: 201; when the audit entry naming him and the count is durable (its
        append has returned), neither price is visible yet, in the database or in the controls."""
        audit, prices = world.ctx.audit, world.ctx.controls.controls.reference_prices
        append = audit.append
        visible_when_audited: list[object] = []

        def witnessed(entry: AuditEntry) -> int:
            index = append(entry)  # returns once the entry is committed
            if entry.kind == "reference_prices":
                in_db = stored(world)
                visible_when_audited.extend(in_db.get(s) or prices.get(s) for s in ("CSCO", "IBM"))
            return index

        monkeypatch.setattr(audit, "append", witnessed)
        body = {"prices": [row(world, "CSCO", 50), row(world, "IBM", 120.5)]}
        response = world.client.post(URL, json=body, headers=world.tokens["adam"])
        assert response.status_code == 201, response.text
        assert visible_when_audited == [None, None]
        answer = response.json()
        assert answer["count"] == 2
        assert answer["source"] == "feed:adam"
        entry = world.entries("reference_prices", actor="adam", decision="allow")[-1]
        assert entry["after"]["count"] == 2
        assert entry["after"]["source"] == "feed:adam"
        assert entry["after"]["symbols"] == ["CSCO", "IBM"]
        assert {"CSCO": 50.0, "IBM": 120.5}.items() <= stored(world).items()

    def test_a_sell_then_counts_at_the_feed_price(self, world: World) -> None:
        """After the feed said NVDA is 50, 9,000,000 NVDA at 0.10 needs approval and cites the feed."""
        world.client.post(URL, json={"prices": [row(world, "NVDA", 50)]}, headers=world.tokens["adam"])
        result = submit(world, "alice", world.fresh(DUMP, symbol="NVDA"))
        assert not result["accepted"]
        assert result["decision"]["reason_code"] == "APPROVAL_REQUIRED"
        assert "uses reference price 50 (feed:adam" in result["decision"]["message"]


class TestRefusals:
    def test_a_trader_cannot_post_prices(self, world: World) -> None:
        """alice (trader) gets 403; the refusal is audited with her name; nothing is stored."""
        before = stored(world)
        body = {"prices": [row(world, "TSLA", 0.01)]}
        response = world.client.post(URL, json=body, headers=world.tokens["alice"])
        assert response.status_code == 403
        refused = world.entries("api_request", actor="alice", decision="deny", object_id=f"POST {URL}")
        assert refused
        assert refused[-1]["after"]["permission"] == "publish_reference_prices"
        assert stored(world) == before

    @pytest.mark.parametrize(
        ("bad", "where"),
        [
            ({"price": -1}, "row 2 field 'price'"),
            ({"ts": "yesterday"}, "row 2 field 'ts'"),
            ({"venue": "XNYS"}, "row 2: unknown field 'venue'"),
        ],
    )
    def test_a_bad_row_refuses_the_whole_batch(
        self, world: World, bad: dict[str, object], where: str
    ) -> None:
        """Row 1 is good, row 2 is not: 400 naming row 2 and the field; row 1 is not stored either."""
        body = {"prices": [row(world, "INTC", 30), {**row(world, "INTC", 31), **bad}]}
        response = world.client.post(URL, json=body, headers=world.tokens["adam"])
        assert response.status_code == 400, response.text
        assert where in response.json()["error"]["message"]
        assert "INTC" not in stored(world)
        refusal = world.entries("reference_prices", actor="adam", decision="deny")[-1]
        assert refusal["reason_code"] == "BAD_REFERENCE_PRICE"

    def test_nan_in_the_body_is_refused_by_row_and_field(self, world: World) -> None:
        """JSON's NaN literal (sent raw) is a 400 naming the price of row 1, not a 500."""
        ts = format_ts(world.clock.now)
        raw = '{"prices": [{"symbol": "INTC", "price": NaN, "ts": "' + ts + '"}]}'
        headers = {**world.tokens["adam"], "content-type": "application/json"}
        response = world.client.post(URL, content=raw, headers=headers)
        assert response.status_code == 400
        assert "row 1 field 'price'" in response.json()["error"]["message"]

    def test_a_price_dated_in_the_future_is_refused_and_audited(self, world: World) -> None:
        """A typo'd year (2062) is a 400 naming row 1 field 'ts'; the refusal is audited, nothing stored."""
        body = {"prices": [{"symbol": "QCOM", "price": 0.5, "ts": "2062-11-20T21:00:00Z"}]}
        response = world.client.post(URL, json=body, headers=world.tokens["adam"])
        assert response.status_code == 400, response.text
        assert "row 1 field 'ts'" in response.json()["error"]["message"]
        assert "in the future" in response.json()["error"]["message"]
        assert "QCOM" not in stored(world)
        refusal = world.entries("reference_prices", actor="adam", decision="deny")[-1]
        assert "in the future" in refusal["after"]["message"]

    @pytest.mark.parametrize(("digits", "where"), [(400, "row 1 field 'price'"), (5_000, "not JSON")])
    def test_a_huge_integer_price_is_a_400_not_a_500(self, world: World, digits: int, where: str) -> None:
        """400 digits overflow a float, 5,000 exceed the JSON parser's limit: both an audited 400."""
        before = len(world.entries("reference_prices", actor="adam", decision="deny"))
        ts = format_ts(world.clock.now)
        raw = '{"prices": [{"symbol": "TXN", "price": ' + "9" * digits + ', "ts": "' + ts + '"}]}'
        headers = {**world.tokens["adam"], "content-type": "application/json"}
        response = world.client.post(URL, content=raw, headers=headers)
        assert response.status_code == 400, response.text
        assert where in response.json()["error"]["message"]
        assert response.json()["error"]["code"] == "BAD_REFERENCE_PRICE"
        assert len(world.entries("reference_prices", actor="adam", decision="deny")) == before + 1
        assert "TXN" not in stored(world)


class TestRestart:
    def test_a_fill_seen_before_a_restart_still_values_a_sell_after_it(
        self, firm: FirmConfig, tmp_path: Path
    ) -> None:
        """MSFT bought near 400, then a restart: 90,000 MSFT at 0.10 (under the cap) needs approval."""
        url = f"sqlite:///{tmp_path / 'orderguard.db'}"
        with red_team_world(firm, url, tmp_path) as first:
            bought = submit(first, "alice", first.fresh(ORDER, symbol="MSFT", price=400))
            assert bought["accepted"], bought
        with red_team_world(firm, url, tmp_path) as restarted:
            result = submit(restarted, "alice", restarted.fresh(DUMP, symbol="MSFT", qty=90_000))
        assert not result["accepted"]
        assert result["decision"]["reason_code"] == "APPROVAL_REQUIRED"
        assert "last fill seen by the desk" in result["decision"]["message"]
