"""Red team, inputs: malformed and hostile order fields, and venue names that look approved.

Through the HTTP API with a real token on a real SQLite file. A malformed field is a 4xx naming the
field, with nothing written (no audit entry, no booked order); a look-alike venue is refused and
alerted like any unapproved venue.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderguard.config import FirmConfig
from tests.functional.redteam_world import ORDER, World, red_team_world, submit


@pytest.fixture(scope="module")
def world(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("redteam-inputs")
    with red_team_world(firm, f"sqlite:///{tmp / 'orderguard.db'}", tmp) as w:
        yield w


MALFORMED: list[tuple[str, str, object]] = [
    ("zero quantity", "qty", 0),
    ("negative quantity", "qty", -1),
    ("huge quantity", "qty", 1e308),
    ("NaN quantity", "qty", "NaN"),
    ("infinite price", "price", "Infinity"),
    ("negative price", "price", -100),
    ("quantity as text", "qty", "ten"),
    ("very long order id", "order_id", "X" * 129),
    ("empty order id", "order_id", ""),
    ("control character in the id", "order_id", "A\x00B"),
    ("newline in the id", "order_id", "A-1\n"),
    ("unicode look-alike account", "account", "C-PENSIОN-1"),  # noqa: RUF001 - a Cyrillic O on purpose
    ("side in capitals", "side", "BUY"),
    ("approval id with spaces", "approval_request_id", "apr 1; drop"),
    ("an actor smuggled in", "actor", "carol"),
]


class TestMalformedOrders:
    @pytest.mark.parametrize(("name", "field", "value"), MALFORMED, ids=[m[0] for m in MALFORMED])
    def test_a_malformed_field_is_a_4xx_naming_it_and_nothing_is_written(
        self, world: World, name: str, field: str, value: object
    ) -> None:
        """422 whose error names the field; the audit log and the order book are unchanged."""
        order = world.fresh(ORDER)
        before = world.audit_size()
        response = world.client.post(
            "/api/v1/orders", json={**order, field: value}, headers=world.tokens["alice"]
        )
        assert response.status_code == 422, name
        assert any(field in error["loc"] for error in response.json()["detail"]), response.text
        assert world.audit_size() == before
        assert world.ctx.book.get(order["order_id"]) is None

    def test_an_approval_vote_with_a_malformed_digest_is_refused_before_the_engine(
        self, world: World
    ) -> None:
        """A digest that is not 64 hex digits is a 422 on the digest field."""
        response = world.client.post(
            "/api/v1/approvals/apr-0/approve", json={"digest": "DROP TABLE"}, headers=world.tokens["olga"]
        )
        assert response.status_code == 422
        assert any("digest" in error["loc"] for error in response.json()["detail"])


LOOK_ALIKES = [
    ("lower case", "xnys", 200),
    ("unapproved venue", "DARK-X", 200),
    ("unapproved in lower case", "dark-x", 200),
    ("leading space", " XNYS", 422),
    ("trailing space", "XNYS ", 422),
    ("Cyrillic Kha for X", "ХNYS", 422),  # noqa: RUF001 - a Cyrillic letter on purpose
    ("empty", "", 422),
    ("trailing newline", "XNYS\n", 422),
    ("zero-width space", "XNYS\u200b", 422),
]


class TestVenueLookAlikes:
    @pytest.mark.parametrize(("name", "venue", "status"), LOOK_ALIKES, ids=[v[0] for v in LOOK_ALIKES])
    def test_a_venue_that_only_looks_approved_never_routes(
        self, world: World, name: str, venue: str, status: int
    ) -> None:
        """A 422 on the venue field with nothing written, or VENUE_NOT_APPROVED, audited and alerted."""
        # Each case on its own symbol: a blocked route also blocks the actor's orders in that symbol.
        order = world.fresh(ORDER, venue=venue)
        order["symbol"] = f"LA{order['order_id'].rpartition('-')[2]}"
        before = world.audit_size()
        response = world.client.post("/api/v1/orders", json=order, headers=world.tokens["alice"])
        assert response.status_code == status, name
        if status == 422:
            assert any("venue" in error["loc"] for error in response.json()["detail"])
            assert world.audit_size() == before
            return
        result = response.json()
        assert result["decision"]["reason_code"] == "VENUE_NOT_APPROVED"
        assert result["alerts"], "an unapproved route raises an alert"
        refused = world.entries("order", object_id=order["order_id"], decision="deny")
        assert refused[0]["reason_code"] == "VENUE_NOT_APPROVED"
        assert refused[0]["session_id"].startswith("token:")

    def test_the_approved_venue_itself_still_routes(self, world: World) -> None:
        """The control case: XNYS exactly is accepted."""
        assert submit(world, "tom", world.fresh({**ORDER, "account": "C-FAMILY-1", "symbol": "GE"}))[
            "accepted"
        ]
