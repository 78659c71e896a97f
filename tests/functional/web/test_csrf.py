"""Every state-changing web page refuses a request without the session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.support import demo_context
from tests.functional.web.support import logged_in

NO_SESSION_YET = {"/login"}  # refused from other sites by Origin instead (test_login)


@pytest.fixture(scope="module")
def ctx(firm: FirmConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path_factory.mktemp("csrf"), day=False)
    yield context
    context.close()


def _web_posts(ctx: AppContext) -> list[str]:
    """Every POST path of the web UI (not /api/), path parameters filled with a placeholder."""
    paths = []
    for context in iter_route_contexts(create_app(ctx).routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and "POST" in (route.methods or ()) and not path.startswith("/api/"):
            paths.append(re.sub(r"\{[^}]+\}", "x1", path))
    assert len(paths) >= 8, "the walk found too few web forms; has the routing changed?"
    return [p for p in paths if p not in NO_SESSION_YET]


class TestCsrfOnEveryForm:
    @pytest.mark.parametrize("token", [None, "forged"])
    def test_post_without_the_sessions_token_is_refused(self, ctx: AppContext, token: str | None) -> None:
        """Each web POST, with a live session but a missing or wrong CSRF token, answers 403 naming CSRF."""
        browser = logged_in(ctx, "chris")
        form = {"digest": "d"}  # the vote forms' required field, so that the CSRF check is what answers
        if token is not None:
            form["csrf_token"] = token
        answered = {path: browser.post(path, data=form) for path in _web_posts(ctx)}
        refused = {p for p, r in answered.items() if r.status_code == 403 and "CSRF" in r.text}
        assert set(answered) - refused == set()
