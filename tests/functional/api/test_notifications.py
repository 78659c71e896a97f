"""The firm file's ``[notifications]`` wired into the case desk: a structured log by default, a
signed webhook when configured (its secret read from the environment variable named), and a clear
error, before anything is written, when that variable is missing."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from orderguard.app import build_app_context
from orderguard.cases.notify import SIGNATURE_HEADER, verify_signature
from orderguard.config import ConfigError, FirmConfig, parse_config
from orderguard.wiring.cases_stage import notifiers_of
from tests.conftest import EXAMPLE_FIRM
from tests.functional.api.scan_world import api_world

SECRET_ENV = "ORDERGUARD_TEST_WEBHOOK_SECRET"


def firm_with(notifications: dict[str, Any]) -> FirmConfig:
    data: dict[str, Any] = tomllib.loads(EXAMPLE_FIRM.read_text("utf-8"))
    data["notifications"] = notifications
    return parse_config(data, "firm.toml")


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was received instead."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
    server.server_close()


class TestNotifiersOf:
    def test_the_structured_log_is_on_by_default(self, firm: FirmConfig) -> None:
        """The example firm, which has no [notifications] section, gets the log notifier only."""
        assert [n.name for n in notifiers_of(firm, {})] == ["log"]

    def test_nothing_when_everything_is_off(self) -> None:
        """log = false and no webhook: no notifier at all."""
        assert notifiers_of(firm_with({"log": False}), {}) == []

    def test_a_webhook_without_its_secret_is_refused_by_name(self, tmp_path: Path) -> None:
        """An unset secret variable is a ConfigError naming the key and the variable, raised before
        the database is created."""
        firm = firm_with({"webhook_url": "https://hooks.example/og", "webhook_secret_env": SECRET_ENV})
        with pytest.raises(ConfigError, match=f"webhook_secret_env: environment variable {SECRET_ENV}"):
            build_app_context(firm, f"sqlite:///{tmp_path / 'og.db'}", audit_key=tmp_path / "audit.key")
        assert not (tmp_path / "og.db").exists()

    def test_the_firm_file_never_holds_the_secret(self) -> None:
        """A url without a secret variable, or a literal secret key, is refused with its key path."""
        with pytest.raises(
            ConfigError, match="notifications: webhook_url and webhook_secret_env go together"
        ):
            firm_with({"webhook_url": "https://hooks.example/og"})
        with pytest.raises(ConfigError, match=r"notifications\.webhook_secret: unknown key"):
            firm_with({"webhook_url": "https://h.example", "webhook_secret_env": "S", "webhook_secret": "x"})


class TestWebhookDelivery:
    def test_scanned_alerts_reach_the_webhook_signed(
        self,
        tmp_path: Path,
        receiver: tuple[str, list[tuple[bytes, str]]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Every alert a scan over the API stores is POSTed to the configured webhook with an
        HMAC-SHA256 signature made with the secret from the environment variable."""
        url, received = receiver
        monkeypatch.setenv(SECRET_ENV, "s3cret-for-the-test")
        webhook = {"webhook_url": url, "webhook_secret_env": SECRET_ENV, "log": False}
        with api_world(tmp_path, scan=True, notifications=webhook) as world:
            assert world.ctx.cases is not None
            assert world.ctx.cases.dispatcher is not None
            assert world.ctx.cases.dispatcher.names == ("webhook",)
            assert world.ctx.cases.dispatcher.drain(timeout=20)
            stored = {a["alert_id"] for a in world.get("chris", "/api/v1/alerts").json()}
        assert stored
        assert all(verify_signature(b"s3cret-for-the-test", body, signature) for body, signature in received)
        sent = {json.loads(body)["alert_id"] for body, _ in received}
        assert stored <= sent
