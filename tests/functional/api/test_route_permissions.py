"""Every route of the app (API and web UI) is authorized by a Cedar action that the schema knows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cedarpy
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from orderguard.api import create_app
from orderguard.config import FirmConfig
from orderguard.policy.authorizer import POLICY_DIR
from tests.functional.api.support import demo_context

# Routes anyone may call, each with the reason it needs no Cedar action.
PUBLIC = {
    ("GET", "/health"): "liveness probe for the process supervisor",
    ("GET", "/metrics"): "Prometheus scrape target, aggregate counters only (bind to a private interface)",
    ("GET", "/login"): "the login form",
    ("POST", "/login"): "password check; creates the web session",
    ("POST", "/logout"): "ends the caller's own session (CSRF-checked); must work even when suspended",
    ("GET", "/"): "redirects a logged-in user to their start page, which is itself authorized",
}


@pytest.fixture(scope="module")
def app(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    ctx = demo_context(firm, tmp_path_factory.mktemp("routes"), day=False)
    yield create_app(ctx)
    ctx.close()


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) for every endpoint of the app, included routers flattened."""
    found: list[tuple[str, str, APIRoute]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.extend((method, context.path or route.path, route) for method in route.methods or ())
    assert len(found) > 30, "the route table walk found too few routes; has FastAPI's routing changed?"
    return found


def _declared(route: APIRoute) -> dict[str, str] | None:
    declared = (route.openapi_extra or {}).get("x-orderguard-permission")
    return declared if isinstance(declared, dict) else None


def _enforced(dependant: Dependant) -> Iterator[object]:
    """The permissions of every ``Allowed(...)`` dependency anywhere under ``dependant``."""
    for sub in dependant.dependencies:
        permission = getattr(sub.call, "permission", None)
        if permission is not None:
            yield permission
        yield from _enforced(sub)


class TestRoutePermissions:
    def test_every_non_public_route_declares_a_cedar_action(self, app: FastAPI) -> None:
        """Each route outside the public list names a Cedar action the schema applies to its resource type."""
        schema = cedarpy.Schema.from_str((POLICY_DIR / "firm.cedarschema").read_text("utf-8"))
        undeclared, unknown = [], []
        for method, path, route in _routes(app):
            if (method, path) in PUBLIC or method == "HEAD":
                continue
            declared = _declared(route)
            if declared is None:
                undeclared.append(f"{method} {path}")
                continue
            action, resource = declared["action"], declared["resource"]
            probe = f'permit (principal, action == Action::"{action}", resource is {resource});'
            if not cedarpy.validate_policies(probe, schema).validation_passed:
                unknown.append(f"{method} {path}: {declared['action']} on {declared['resource']}")
        assert undeclared == []
        assert unknown == []

    def test_api_routes_enforce_what_they_declare(self, app: FastAPI) -> None:
        """Each /api/ route runs an ``Allowed`` dependency for exactly the permission it publishes."""
        mismatched = []
        for method, path, route in _routes(app):
            if not path.startswith("/api/"):
                continue
            declared = _declared(route)
            enforced = [p.openapi()["x-orderguard-permission"] for p in _enforced(route.dependant)]  # type: ignore[attr-defined]
            if declared is None or enforced != [declared]:
                mismatched.append(f"{method} {path}: declared {declared}, enforced {enforced}")
        assert mismatched == []

    def test_public_list_matches_the_app(self, app: FastAPI) -> None:
        """Every public route exists, so the list cannot silently cover a route that was renamed."""
        present = {(method, path) for method, path, _ in _routes(app)}
        assert set(PUBLIC) <= present

    def test_openapi_shows_the_permission(self, app: FastAPI, tmp_path: Path) -> None:
        """The published OpenAPI document carries the Cedar action of a route (clients can read it)."""
        operation = app.openapi()["paths"]["/api/v1/events"]["post"]
        assert operation["x-orderguard-permission"]["action"] == "ingest_events"
