"""The documented 422 answer (OpenAPI) is the one the API sends: ``{"error": {...}, "detail": [...]}``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderguard.api import create_app
from orderguard.api.errors import ValidationErrorResponse
from orderguard.config import load_config
from tests.conftest import EXAMPLE_FIRM
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context

REF = "#/components/schemas/ValidationErrorResponse"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any], str]]:
    ctx = demo_context(load_config(EXAMPLE_FIRM), tmp_path_factory.mktemp("api422"), day=False)
    token = ctx.tokens.issue("alice", "test")
    with TestClient(create_app(ctx, web=False)) as client:
        yield client, client.get("/openapi.json").json(), token
    ctx.close()


def _answers_422(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{method.upper()} {path}": op["responses"]["422"]
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if "422" in op.get("responses", {})
    }


class TestDocumented422:
    def test_every_422_names_the_real_shape(self, api: tuple[TestClient, dict[str, Any], str]) -> None:
        """Every operation documenting a 422 points at ValidationErrorResponse; FastAPI's default is gone."""
        _, doc, _ = api
        documented = _answers_422(doc)
        assert "POST /api/v1/orders" in documented
        refs = {op: got["content"]["application/json"]["schema"]["$ref"] for op, got in documented.items()}
        assert {op: ref for op, ref in refs.items() if ref != REF} == {}
        assert "HTTPValidationError" not in doc["components"]["schemas"]
        assert set(doc["components"]["schemas"]["ValidationErrorResponse"]["required"]) == {"error", "detail"}

    def test_a_real_422_matches_the_documented_schema(
        self, api: tuple[TestClient, dict[str, Any], str]
    ) -> None:
        """An order with a negative quantity gets a 422 whose body validates against the documented schema."""
        client, doc, token = api
        order = {"order_id": "X-1", "account": "C-PENSION-1", "symbol": "AAPL", "side": "buy", "qty": -5}
        answer = client.post("/api/v1/orders", json=order, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 422, answer.text
        body = answer.json()
        documented = doc["components"]["schemas"]["ValidationErrorResponse"]
        assert set(body) == set(documented["properties"]) == set(documented["required"])
        ValidationErrorResponse.model_validate(body, strict=True)
        field = doc["components"]["schemas"]["FieldError"]
        assert all(set(item) == set(field["required"]) for item in body["detail"])
        assert body["error"]["code"] == "INVALID_REQUEST"
        assert any("qty" in field["loc"] for field in body["detail"])
