"""The API's batch upload stores empty optional text as absent, like the file readers."""

from __future__ import annotations

import json
from pathlib import Path

from orderguard.api import create_app
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context


class TestBatchUpload:
    def test_empty_optional_text_is_stored_as_absent(self, firm: FirmConfig, tmp_path: Path) -> None:
        """A login sent with "" for venue, ip and session_id is stored with those fields absent."""
        ctx = demo_context(firm, tmp_path, day=False)
        try:
            headers = {
                "Authorization": f"Bearer {ctx.tokens.issue('adam', 'ingest')}",
                "content-type": "application/x-ndjson",
            }
            record = {
                "event_id": "up-1",
                "ts": "2026-11-20T15:00:00Z",
                "kind": "login",
                "actor": "alice",
                "venue": "",
                "ip": "",
                "session_id": "",
                "account": "C-1",
            }
            with TestClient(create_app(ctx)) as client:
                answer = client.post("/api/v1/events", content=json.dumps(record).encode(), headers=headers)
            assert answer.status_code == 201, answer.text
            [stored] = ctx.events.by_ids(["up-1"])
            assert (stored.venue, stored.ip, stored.session_id, stored.account) == (None, None, None, "C-1")
        finally:
            ctx.close()
