"""The order lane validates bodies in pydantic's JSON mode; the route parses JSON, then validates.
Both must accept exactly the same bodies with the same values, or the lane would differ from the app."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from orderguard.api.schemas import OrderIn

BASE = {
    "order_id": "A1",
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 10,
    "price": 100,
    "venue": "XNYS",
}
ODD_VALUES: dict[str, list[object]] = {
    "qty": [
        "10",
        True,
        "1e3",
        " 10",
        "NaN",
        "Infinity",
        1e300,
        "0x10",
        "10_000",
        10.5,
        "\u0661\u0660",
        -1,
        0,
    ],
    "order_id": [5, True, "a b", "\u00e9", "A1\n", "x" * 129],
    "side": ["BUY", "Buy", 1, "sell", None],
    "approval_request_id": [None, "", 3, "REQ-1"],
    "extra": [1],
}
RAW = [
    '{"order_id":"A1","order_id":"B2","account":"C-PENSION-1","symbol":"AAPL","side":"buy","qty":1,"price":1,"venue":"XNYS"}',
    '{"order_id":"A1","account":"C-PENSION-1","symbol":"AAPL","side":"buy","qty":NaN,"price":1,"venue":"XNYS"}',
    '{"order_id":"A\\u0031","account":"C-PENSION-1","symbol":"AAPL","side":"buy","qty":1e400,"price":1,"venue":"XNYS"}',
    "[1]",
    "null",
    "{}",
]
BODIES = [json.dumps({**BASE, key: value}) for key, values in ODD_VALUES.items() for value in values] + RAW


def _read(parse: Callable[[str], OrderIn], body: str) -> OrderIn | None:
    try:
        return parse(body)
    except (ValidationError, ValueError):
        return None


class TestLaneValidation:
    @pytest.mark.parametrize("body", BODIES)
    def test_json_mode_accepts_what_the_route_accepts(self, body: str) -> None:
        """Each odd body is accepted by both readings with the same values, or refused by both."""
        route = _read(lambda b: OrderIn.model_validate(json.loads(b)), body)
        lane = _read(OrderIn.model_validate_json, body)
        assert route == lane
