"""An entry deleted from the store (an insider with database access) shows as a gap on the audit page,
which keeps working, while verification names the break."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from orderguard.app import AppContext
from orderguard.config import FirmConfig
from orderguard.web.audit_pages import MISSING_ENTRY
from tests.functional.api.support import demo_context
from tests.functional.web.support import logged_in
from tests.integration.audit.helpers import order_entry


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = demo_context(firm, tmp_path, day=False)
    context.audit.append_many([order_entry(n) for n in range(20)])
    yield context
    context.close()


def _delete_entry(ctx: AppContext, index: int) -> None:
    """Delete one entry the way an insider with the database file would: triggers dropped first."""
    with ctx.engine.begin() as conn:
        for table in ("audit_payloads", "audit_entries"):
            query = text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t")
            for (name,) in conn.execute(query, {"t": table}).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(text(f"DELETE FROM {table} WHERE idx = :i"), {"i": index})


class TestAuditPageWithAGap:
    def test_a_deleted_entry_shows_as_missing_and_the_page_still_renders(self, ctx: AppContext) -> None:
        """The page lists every index of the range, the deleted one as a missing-entry row."""
        carol = logged_in(ctx, "carol")
        size = ctx.audit.head()[0]
        gone = size - 3
        _delete_entry(ctx, gone)
        answer = carol.get("/audit")
        assert answer.status_code == 200, answer.text
        rows = re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", answer.text, re.DOTALL)
        indexes = [int(index) for index, _ in rows]
        # Contiguous, newest first (the page view itself is audited, so the top may be above ``size``).
        assert indexes == list(range(indexes[0], indexes[0] - len(indexes), -1))
        assert indexes[-1] == 0
        missing = [int(index) for index, what in rows if MISSING_ENTRY in what]
        assert missing == [gone]

    def test_verification_names_the_missing_entry(self, ctx: AppContext) -> None:
        """Verifying the log after the deletion fails with a finding naming the deleted index."""
        size = ctx.audit.head()[0]
        _delete_entry(ctx, size - 3)
        result = ctx.verify_audit()
        assert result["ok"] is False
        findings = result["findings"]
        assert isinstance(findings, list)
        assert any(str(size - 3) in str(finding) for finding in findings), findings
