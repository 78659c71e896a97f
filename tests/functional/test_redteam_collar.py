"""Red team, collar: a trader dodges four-eyes with a sell limit far below the market.

Selling 9,000,000 AAPL at a 0.10 limit is 900,000 on the limit (under the 1,000,000 threshold),
yet it is marketable and would execute at the market (~1.7bn). Through the HTTP API, on a real
SQLite file, with the example firm plus a ``[reference_prices]`` table: the sell now needs the
large-order approval, whose request shows the notional used and where its price came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderguard.config import FirmConfig, load_config
from tests.conftest import EXAMPLE_FIRM
from tests.functional.redteam_world import ORDER, World, approve, open_large_order, red_team_world, submit

DUMP: dict[str, Any] = {**ORDER, "order_id": "DUMP", "side": "sell", "qty": 9_000_000, "price": 0.10}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The example firm with AAPL's reference price at 190 in the firm file (MSFT has none)."""
    tmp = tmp_path_factory.mktemp("redteam-collar")
    firm_file = tmp / "firm.toml"
    firm_file.write_text(
        Path(EXAMPLE_FIRM).read_text(encoding="utf-8") + "\n[reference_prices]\nAAPL = 190.0\n",
        encoding="utf-8",
    )
    firm: FirmConfig = load_config(firm_file)
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


def refused(world: World, order: dict[str, Any]) -> dict[str, Any]:
    """Alice submits ``order``; it must be refused as APPROVAL_REQUIRED, with the refusal audited."""
    result = submit(world, "alice", order)
    assert not result["accepted"], result
    assert result["decision"]["reason_code"] == "APPROVAL_REQUIRED", result
    order_id = order["order_id"]
    found = world.entries("order", object_id=order_id, decision="deny", reason_code="APPROVAL_REQUIRED")
    assert found
    assert found[-1]["actor"] == "alice"
    assert found[-1]["ip"]
    return result


class TestMarketableSellLimit:
    def test_the_dump_from_the_finding_needs_approval(self, world: World) -> None:
        """9,000,000 AAPL at 0.10 counts at the reference 190 and is refused until approved, audited."""
        dump = world.fresh(DUMP)
        result = refused(world, dump)
        assert "reference price 190" in result["decision"]["message"]
        entry = world.entries("order", object_id=dump["order_id"], decision="deny")[-1]
        assert entry["after"]["notional_basis"]["control_notional"] == pytest.approx(9_000_000 * 190.0)

    def test_approved_the_dump_goes_and_approvers_saw_the_reference(self, world: World) -> None:
        """The request carries the notional used and its source; approved by olga, the sell is accepted."""
        dump = world.fresh(DUMP)
        request_id, digest = open_large_order(world, "alice", dump)
        pending = world.client.get("/api/v1/approvals/pending", headers=world.tokens["olga"]).json()
        content = next(r["content"] for r in pending if r["request_id"] == request_id)
        assert content["control_notional"] == pytest.approx(9_000_000 * 190.0)
        assert content["reference_source"] == "firm file [reference_prices]"
        assert approve(world, "olga", request_id, digest)["decision"]["allowed"]
        result = submit(world, "alice", {**dump, "approval_request_id": request_id})
        assert result["accepted"], result

    def test_a_cheap_fill_does_not_lower_the_firm_files_reference(self, world: World) -> None:
        """One share sold at 0.10 (filled there by the venue) leaves the dump still needing approval."""
        assert submit(world, "alice", world.fresh(DUMP, qty=1))["accepted"]
        refused(world, world.fresh(DUMP))

    def test_the_desks_last_fill_is_the_reference_for_an_unlisted_symbol(self, world: World) -> None:
        """After a MSFT buy fills near 400, a 9,000,000 MSFT sell at 0.10 needs approval, citing the fill."""
        bought = submit(world, "alice", world.fresh(ORDER, symbol="MSFT", price=400))
        assert bought["accepted"], bought
        result = refused(world, world.fresh(DUMP, symbol="MSFT"))
        assert "last fill seen by the desk" in result["decision"]["message"]


class TestOrdersThatStillPass:
    def test_a_normal_small_sell_passes(self, world: World) -> None:
        """10 AAPL sold at 100 (1,900 at the reference) needs no approval."""
        result = submit(world, "alice", world.fresh(ORDER, side="sell"))
        assert result["accepted"], result

    def test_a_buy_with_a_tiny_limit_needs_no_approval(self, world: World) -> None:
        """9,000,000 AAPL bought at 0.10 cannot fill above 900,000: no approval, whatever the reference."""
        result = submit(world, "alice", world.fresh(DUMP, side="buy"))
        assert result["accepted"], result

    def test_without_any_reference_a_sell_under_the_cap_passes_and_says_so(self, world: World) -> None:
        """A symbol with no reference keeps the limit's notional under the unpriced cap, and says so."""
        result = submit(world, "alice", world.fresh(DUMP, symbol="NVDA", qty=50_000))
        assert result["accepted"], result
        assert "no reference price was available for NVDA" in result["decision"]["message"]


class TestUnpricedSells:
    def test_without_any_reference_the_dump_needs_approval(self, world: World) -> None:
        """9,000,000 NVDA (no market price anywhere) at 0.10 is above the unpriced cap: needs approval."""
        result = refused(world, world.fresh(DUMP, symbol="NVDA"))
        assert "no fresh reference price needs large-order approval" in result["decision"]["message"]
