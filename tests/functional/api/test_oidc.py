"""OIDC bearer JWTs against a JWKS in a local file, with locally generated RS256 and EdDSA keys."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from orderguard.api import create_app
from orderguard.app import AppContext
from orderguard.auth.oidc import OidcError, OidcVerifier, b64url_encode
from orderguard.config import FirmConfig
from tests.functional.api.client import TestClient
from tests.functional.api.support import demo_context

ISSUER = "https://idp.example.test"
AUDIENCE = "orderguard"


class Issuer:
    """A tiny identity provider: an RSA and an Ed25519 key, their JWKS, and a token minter."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        numbers = self.rsa.public_key().public_numbers()
        raw = self.ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": "rsa-1",
                    "alg": "RS256",
                    "n": b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": b64url_encode(numbers.e.to_bytes(3, "big")),
                },
                {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": b64url_encode(raw)},
            ]
        }

    def token(self, alg: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now, "preferred_username": "carol"}
        body.update(claims)
        header = {"alg": alg, "typ": "JWT", "kid": "rsa-1" if alg == "RS256" else "ed-1"}
        signing_input = ".".join(
            b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, body)
        ).encode()
        if alg == "RS256":
            signature = self.rsa.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = self.ed.sign(signing_input)
        return signing_input.decode() + "." + b64url_encode(signature)


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def verifier(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> OidcVerifier:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(issuer.jwks()))
    return OidcVerifier(ISSUER, AUDIENCE, str(path))


@pytest.fixture(scope="module")
def api(
    firm: FirmConfig, verifier: OidcVerifier, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AppContext, TestClient]]:
    ctx = demo_context(firm, tmp_path_factory.mktemp("oidc"), day=False)
    ctx.oidc = verifier
    with TestClient(create_app(ctx)) as client:
        yield ctx, client
    ctx.close()


class TestOidcVerifier:
    @pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
    def test_valid_token_names_the_principal(self, issuer: Issuer, verifier: OidcVerifier, alg: str) -> None:
        """A token signed by a JWKS key, for our audience and unexpired, yields its principal."""
        assert verifier.principal(issuer.token(alg)) == "carol"

    @pytest.mark.parametrize(
        ("claims", "problem"),
        [
            ({"aud": "someone-else"}, "audience"),
            ({"iss": "https://evil.example"}, "issuer"),
            ({"exp": 1_000}, "expired"),
            ({"nbf": 4_000_000_000}, "not valid yet"),
        ],
    )
    def test_wrong_claims_are_refused(
        self, issuer: Issuer, verifier: OidcVerifier, claims: dict[str, Any], problem: str
    ) -> None:
        """Audience, issuer, expiry and not-before are each checked, and the refusal says which."""
        with pytest.raises(OidcError, match=problem):
            verifier.verify(issuer.token(**claims))

    def test_tampered_payload_is_refused(self, issuer: Issuer, verifier: OidcVerifier) -> None:
        """Changing the claims after signing breaks the signature."""
        head, _body, sig = issuer.token().split(".")
        forged = b64url_encode(
            json.dumps(
                {"iss": ISSUER, "aud": AUDIENCE, "exp": 4_000_000_000, "preferred_username": "chris"}
            ).encode()
        )
        with pytest.raises(OidcError, match="signature"):
            verifier.verify(f"{head}.{forged}.{sig}")

    def test_key_from_another_issuer_is_refused(self, verifier: OidcVerifier) -> None:
        """A well-formed token signed by a key not in the JWKS does not verify."""
        with pytest.raises(OidcError, match="signature"):
            verifier.verify(Issuer().token())


class TestOidcOnTheApi:
    def test_jwt_authenticates_and_cedar_authorizes(
        self, api: tuple[AppContext, TestClient], issuer: Issuer
    ) -> None:
        """A compliance officer's JWT reads the audit checkpoint; a trader's JWT is refused by Cedar."""
        _, client = api
        carol = {"Authorization": f"Bearer {issuer.token()}"}
        assert client.get("/api/v1/me", headers=carol).json()["credential"].startswith("oidc:")
        assert client.get("/api/v1/audit/checkpoint", headers=carol).status_code == 200
        alice = {"Authorization": f"Bearer {issuer.token(preferred_username='alice')}"}
        assert client.get("/api/v1/audit/checkpoint", headers=alice).status_code == 403

    def test_unknown_principal_is_401(self, api: tuple[AppContext, TestClient], issuer: Issuer) -> None:
        """A valid JWT for someone not in the firm file is not a login."""
        _, client = api
        headers = {"Authorization": f"Bearer {issuer.token(preferred_username='mallory')}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 401


class TestJwksSource:
    def test_missing_file_is_a_clear_error(self, tmp_path: Path) -> None:
        """A JWKS path that does not exist fails when keys are first needed, naming the file."""
        verifier = OidcVerifier(ISSUER, AUDIENCE, str(tmp_path / "nope.json"))
        with pytest.raises(FileNotFoundError, match=r"nope\.json"):
            verifier.keys()

    def test_jwks_from_a_local_url(self, issuer: Issuer) -> None:
        """The JWKS can be fetched from the issuer's URL (here a local HTTP server)."""
        document = json.dumps(issuer.jwks()).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *_args: object) -> None:
                return

        server = HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
            assert OidcVerifier(ISSUER, AUDIENCE, url).principal(issuer.token("EdDSA")) == "carol"
        finally:
            server.shutdown()
            thread.join()
