"""The server process's garbage-collector tuning: what survives a full collection is frozen, so the
next full collection walks only what was allocated since (they paused every request for 130-150 ms)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    yield context
    context.close()


@pytest.fixture
def thawed() -> Iterator[None]:
    """Whatever these tests freeze goes back to the collector afterwards (the suite shares the process)."""
    yield
    gc.unfreeze()


class TestServerProcess:
    @pytest.mark.usefixtures("thawed")
    def test_survivors_of_a_full_collection_are_frozen_while_serving(self, ctx: AppContext) -> None:
        """In serve's own process, objects alive at a full collection leave the collector's view."""
        with TestClient(create_app(ctx, web=False, own_process=True)) as client:
            assert client.get("/health").status_code == 200
            long_lived = [[index] for index in range(10_000)]  # like orders kept in the book
            frozen_before = gc.get_freeze_count()
            gc.collect()
            assert gc.get_freeze_count() >= frozen_before + len(long_lived)
        gc.unfreeze()
        frozen_after_stop = gc.get_freeze_count()
        gc.collect()
        assert gc.get_freeze_count() == frozen_after_stop == 0  # the hook is gone with the app

    @pytest.mark.usefixtures("thawed")
    def test_an_app_in_a_shared_process_leaves_the_collector_alone(self, ctx: AppContext) -> None:
        """Embedded (tests, the CLI's own uses), the app freezes nothing."""
        gc.unfreeze()
        with TestClient(create_app(ctx, web=False)) as client:
            assert client.get("/health").status_code == 200
            gc.collect()
            assert gc.get_freeze_count() == 0
