"""OIDC key rotation: a token naming a key the verifier does not hold re-reads the issuer's JWKS
(from a real local HTTP server), no more often than JWKS_REFRESH_SECONDS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from orderguard.auth import oidc
from orderguard.auth.oidc import OidcError, OidcVerifier
from tests.oidc_support import AUDIENCE, ISSUER, SigningKey


class JwksServer:
    """A local HTTP server publishing ``document``; ``fetches`` counts the reads."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.fetches += 1
                body = json.dumps(served.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    served = JwksServer()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.thread.join()


class TestJwksRotation:
    def test_rotated_key_is_fetched_once_the_throttle_allows(
        self, jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After the issuer swaps its key, a new-key token is refused inside the refresh window
        (no extra fetch), accepted once the window has passed (one fetch), and old-key tokens are
        then refused."""
        old, new = SigningKey("2026-a"), SigningKey("2026-b")
        jwks_server.document = {"keys": [old.jwk()]}
        verifier = OidcVerifier(ISSUER, AUDIENCE, jwks_server.url)
        assert verifier.principal(old.token()) == "carol"
        jwks_server.document = {"keys": [new.jwk()]}
        with pytest.raises(OidcError, match="'2026-b' is not in the issuer's JWKS"):
            verifier.verify(new.token())
        assert jwks_server.fetches == 1
        monkeypatch.setattr(oidc, "JWKS_REFRESH_SECONDS", 0.0)
        assert verifier.principal(new.token()) == "carol"
        assert jwks_server.fetches == 2
        with pytest.raises(OidcError, match="'2026-a' is not in the issuer's JWKS"):
            verifier.verify(old.token())
