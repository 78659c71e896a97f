"""Optional OIDC: a bearer JWT signed by the issuer (RS256 or EdDSA), checked against its JWKS.

The JWKS is read from a local file or fetched from a URL, and read again when a token names a key
it does not hold (the issuer rotated its keys), at most once per ``JWKS_REFRESH_SECONDS``.
Checked: signature with the key named by ``kid``, ``iss``, ``aud``, ``exp`` and ``nbf`` (with a
small leeway). The principal is the ``principal_claim`` (default ``preferred_username``) and must
name someone in the firm file.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

LEEWAY_SECONDS: Final = 30
JWKS_REFRESH_SECONDS: Final = 60.0  # an unknown kid re-reads the JWKS at most this often


class OidcError(ValueError):
    """A JWT that is not accepted; the message says which check failed."""


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


PublicKey = RSAPublicKey | Ed25519PublicKey


def key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """An RSA (kty RSA) or Ed25519 (kty OKP, crv Ed25519) public key from its JWK."""
    kty = jwk.get("kty")
    if kty == "RSA":
        n = int.from_bytes(b64url_decode(jwk["n"]), "big")
        e = int.from_bytes(b64url_decode(jwk["e"]), "big")
        return RSAPublicNumbers(e, n).public_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    raise OidcError(f"JWKS key {jwk.get('kid')!r}: unsupported kty/crv {kty}/{jwk.get('crv')}")


@dataclass
class OidcVerifier:
    """Verifies issuer JWTs; ``jwks`` is a path, an http(s) URL, or the JWKS document itself."""

    issuer: str
    audience: str
    jwks: str | dict[str, Any]
    principal_claim: str = "preferred_username"
    _keys: dict[str, PublicKey] | None = field(default=None, repr=False)
    _read_at: float = field(default=float("-inf"), repr=False)

    def keys(self) -> dict[str, PublicKey]:
        if self._keys is None:
            self._read_at = time.monotonic()
            document = self.jwks
            if isinstance(document, str):
                if document.startswith(("http://", "https://")):
                    import httpx

                    document = httpx.get(document, timeout=5.0).raise_for_status().json()
                else:
                    document = json.loads(Path(document).read_text("utf-8"))
            assert isinstance(document, dict)
            self._keys = {str(k.get("kid", "")): key_from_jwk(k) for k in document.get("keys", [])}
        return self._keys

    def key_for(self, kid: str) -> PublicKey | None:
        """The key named ``kid``; an unknown kid re-reads a file or URL JWKS (throttled)."""
        key = self.keys().get(kid)
        stale = time.monotonic() - self._read_at >= JWKS_REFRESH_SECONDS
        if key is None and stale and not isinstance(self.jwks, dict):
            self._keys = None  # the issuer may have rotated its keys
            key = self.keys().get(kid)
        return key

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        """The JWT's claims if every check passes, else OidcError."""
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(b64url_decode(head_b64))
            claims: dict[str, Any] = json.loads(b64url_decode(body_b64))
            signature = b64url_decode(sig_b64)
        except ValueError as exc:
            raise OidcError(f"not a compact JWT: {exc}") from None
        key = self.key_for(str(header.get("kid", "")))
        if key is None:
            raise OidcError(f"JWT key id {header.get('kid')!r} is not in the issuer's JWKS")
        signed = f"{head_b64}.{body_b64}".encode()
        alg = header.get("alg")
        try:
            if alg == "RS256" and isinstance(key, RSAPublicKey):
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "EdDSA" and isinstance(key, Ed25519PublicKey):
                key.verify(signature, signed)
            else:
                raise OidcError(f"JWT alg {alg!r} does not match key {header.get('kid')!r} (RS256 or EdDSA)")
        except InvalidSignature:
            raise OidcError("JWT signature does not verify") from None
        moment = time.time() if now is None else now
        if claims.get("iss") != self.issuer:
            raise OidcError(f"JWT issuer {claims.get('iss')!r} is not {self.issuer!r}")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise OidcError(f"JWT audience {audience!r} does not include {self.audience!r}")
        if not isinstance(claims.get("exp"), int | float) or moment > claims["exp"] + LEEWAY_SECONDS:
            raise OidcError("JWT is expired (or has no exp)")
        if isinstance(claims.get("nbf"), int | float) and moment < claims["nbf"] - LEEWAY_SECONDS:
            raise OidcError("JWT is not valid yet (nbf)")
        if not isinstance(claims.get(self.principal_claim), str):
            raise OidcError(f"JWT has no {self.principal_claim!r} claim naming the principal")
        return claims

    def principal(self, token: str) -> str:
        return str(self.verify(token)[self.principal_claim])
