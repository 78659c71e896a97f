"""A minimal OIDC issuer for tests: an Ed25519 key with its kid, its JWK, and JWTs it signs."""

from __future__ import annotations

import json
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from orderguard.auth.oidc import b64url_encode

ISSUER, AUDIENCE = "https://idp.example.test", "orderguard"


class SigningKey:
    """One Ed25519 issuer key with its kid: its JWK and tokens it signs."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = Ed25519PrivateKey.generate()

    def jwk(self) -> dict[str, str]:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": b64url_encode(raw)}

    def token(self) -> str:
        body = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300, "preferred_username": "carol"}
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.kid}
        signing_input = ".".join(b64url_encode(json.dumps(p).encode()) for p in (header, body))
        return signing_input + "." + b64url_encode(self.key.sign(signing_input.encode()))
