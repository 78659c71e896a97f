"""`orderguard serve` as operators start it: a real process on a free 127.0.0.1 port, with OIDC
bearer JWTs checked against a JWKS file given on the command line, and a console-issued token."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.store import AuditStore
from orderguard.cli.main import app
from orderguard.storage import make_engine
from tests.conftest import EXAMPLE_FIRM
from tests.oidc_support import AUDIENCE, ISSUER, SigningKey

ORDERGUARD = Path(sys.executable).parent / "orderguard"


@dataclass(frozen=True)
class Served:
    base: str
    key: SigningKey
    alice_token: str
    db: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_health(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "serve did not answer /health within 60 s"
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A running ``serve`` with OIDC options and a console token for alice."""
    key = SigningKey("serve-1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.jwk()]}))
    port = _free_port()
    args = [str(ORDERGUARD), "serve", "--config", str(EXAMPLE_FIRM)]
    args += ["--db", f"sqlite:///{tmp_path / 'og.db'}", "--port", str(port), "--no-execute"]
    args += ["--audit-key", str(tmp_path / "audit.key"), "--issue-token", "alice"]
    args += ["--oidc-issuer", ISSUER, "--oidc-audience", AUDIENCE, "--oidc-jwks", str(jwks)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        printed = process.stdout.readline().decode().split()
        _wait_for_health(process, base)
        token = printed[2] if printed[:2] == ["token", "alice"] else ""
        yield Served(base, key, token, tmp_path / "og.db")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


class TestServe:
    def test_jwt_from_the_configured_issuer_authenticates(self, served: Served) -> None:
        """A JWT signed by the JWKS key names its principal; one signed by another key is a 401."""
        headers = {"Authorization": f"Bearer {served.key.token()}"}
        me = httpx.get(f"{served.base}/api/v1/me", headers=headers, timeout=10)
        assert me.status_code == 200, me.text
        assert (me.json()["id"], me.json()["credential"][:5]) == ("carol", "oidc:")
        forged = {"Authorization": f"Bearer {SigningKey('serve-1').token()}"}
        assert httpx.get(f"{served.base}/api/v1/me", headers=forged, timeout=10).status_code == 401

    def test_console_token_works_and_is_audited(self, served: Served) -> None:
        """--issue-token prints alice's token, which authenticates; its creation is in the audit log
        with the console operator as the actor."""
        assert served.alice_token.startswith("og_")
        headers = {"Authorization": f"Bearer {served.alice_token}"}
        assert httpx.get(f"{served.base}/api/v1/me", headers=headers, timeout=10).json()["id"] == "alice"
        engine = make_engine(f"sqlite:///{served.db}")
        try:
            seen = [decode_leaf(bytes(e[2])).header for e in AuditStore(engine).iter_entries()]
        finally:
            engine.dispose()
        [created] = [h for h in seen if h["kind"] == "api_token"]
        assert created["object_id"] == served.alice_token.split("_")[1]
        assert created["actor"].startswith("console:")

    def test_partial_oidc_options_are_a_usage_error(self, tmp_path: Path) -> None:
        """Giving some but not all three OIDC options exits 2 naming the missing ones, before serving."""
        db = f"sqlite:///{tmp_path / 'og.db'}"
        args = ["serve", "--config", str(EXAMPLE_FIRM), "--db", db, "--oidc-issuer", ISSUER]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert "--oidc-audience" in result.output
        assert "--oidc-jwks" in result.output
        assert not (tmp_path / "og.db").exists()

    def test_serve_runs_live_surveillance_by_default(self, served: Served) -> None:
        """Without --surveillance the served API watches its stored events live: the status route says
        so, and its worker is running."""
        headers = {"Authorization": f"Bearer {served.key.token()}"}
        status = httpx.get(f"{served.base}/api/v1/surveillance/status", headers=headers, timeout=10)
        assert status.status_code == 200, status.text
        assert (status.json()["mode"], status.json()["state"]) == ("live", "running")
