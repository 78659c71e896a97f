"""Schemathesis against the OpenAPI spec: generated requests never get a 5xx or an off-schema response."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import openapi
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from orderguard.api import create_app
from orderguard.config import load_config
from tests.conftest import EXAMPLE_FIRM
from tests.functional.api.support import demo_context

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx: object, value: object) -> bytes:
    """Generated bodies for the JSON Lines upload: strings as they are, anything else as one JSON line."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return (json.dumps(value) + "\n").encode()


# Schemathesis needs the schema when the module is collected, so the context is built here
# (a fresh SQLite file, no demo day) and closed by the module fixture below.
_ctx = demo_context(load_config(EXAMPLE_FIRM), Path(tempfile.mkdtemp(prefix="og-schema-")), day=False)
TOKEN = _ctx.tokens.issue("chris", "schemathesis")
schema = openapi.from_asgi("/openapi.json", create_app(_ctx, web=False))


@pytest.fixture(scope="module", autouse=True)
def _close_context() -> Iterator[None]:
    yield
    _ctx.close()


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case[Any]) -> None:
    """Every operation answers without a server error and within its documented schema."""
    # Starlette's 405 lists one route's methods in Allow, so allow_header_conformance is left out.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
