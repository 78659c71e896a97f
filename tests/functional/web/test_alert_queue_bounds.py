"""A page number beyond the alert queue, however large, shows an empty page linking to the first one
instead of overflowing the SQL driver (both backends: SQLite and PostgreSQL bound OFFSET differently)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orderguard.app import build_app_context
from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from tests.functional.api.support import PASSWORD
from tests.functional.web.support import logged_in

T0 = 1_763_650_000_000_000_000


class TestAlertQueuePageBounds:
    @pytest.mark.parametrize("number", [4, 10**17, 10**20])
    def test_a_page_past_the_end_is_empty_and_links_to_the_first(
        self, firm: FirmConfig, db_url: str, tmp_path: Path, number: int
    ) -> None:
        """GET /alerts?page=N past the last page answers 200 with no rows and a link to page 1."""
        ctx = build_app_context(firm, db_url, audit_key=tmp_path / "audit.key", execute=False)
        try:
            ctx.sessions.set_password("carol", PASSWORD)
            ctx.cases.alerts.ingest(
                Alert(f"b{n}", "bounds_probe", "low", "dave", "AAPL", T0 + n, (f"e{n}",), "probe", "alert")
                for n in range(7)
            )
            carol = logged_in(ctx, "carol")
            params = {"rule": "bounds_probe", "per_page": "5"}
            second = carol.get("/alerts", params={**params, "page": "2"})
            assert second.status_code == 200
            assert len(re.findall(r"<td>probe</td>", second.text)) == 2
            beyond = carol.get("/alerts", params={**params, "page": str(number)})
            assert beyond.status_code == 200, beyond.text
            assert re.findall(r"<td>probe</td>", beyond.text) == []
            assert "go to the first page" in beyond.text
        finally:
            ctx.close()
