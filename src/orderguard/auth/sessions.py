"""Web logins: scrypt password hashes and server-side sessions with a CSRF token each.

The browser holds only a random session id in an HttpOnly, SameSite=Strict cookie; the table
keeps its SHA-256. Every state-changing form carries the session's CSRF token, compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine, select

from orderguard.storage.api_tables import web_credentials, web_sessions

SESSION_TTL_SECONDS: Final = 8 * 3600
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


@dataclass(frozen=True, slots=True)
class WebSession:
    principal: str
    csrf_token: str
    session_ref: str  # first 12 hex digits of the session hash: names the session in audit entries


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_session_id() -> str:
    """A fresh cookie value (``start`` makes one when not given one)."""
    return secrets.token_urlsafe(32)


def session_ref(session_id: str) -> str:
    """The public name of a session in audit entries (never the cookie value itself)."""
    return _sha256(session_id)[:12]


class SessionService:
    """Passwords and sessions in the ``web_credentials`` and ``web_sessions`` tables."""

    def __init__(self, engine: Engine, ttl_seconds: float = SESSION_TTL_SECONDS) -> None:
        self.engine = engine
        self.ttl_ns = int(ttl_seconds * 1e9)

    def set_password(self, principal: str, password: str) -> None:
        row = {"password_hash": hash_password(password), "updated_ns": time.time_ns()}
        with self.engine.begin() as conn:
            done = conn.execute(
                web_credentials.update().where(web_credentials.c.principal == principal).values(**row)
            )
            if done.rowcount == 0:
                conn.execute(web_credentials.insert().values(principal=principal, **row))

    def check_password(self, principal: str, password: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(web_credentials.c.password_hash).where(web_credentials.c.principal == principal)
            ).scalar_one_or_none()
        # Hash anyway for unknown users so the response time does not reveal who has a login.
        return password_matches(password, stored or hash_password("x", b"\0" * 16)) and stored is not None

    def start(self, principal: str, ip: str | None, session_id: str | None = None) -> tuple[str, WebSession]:
        """A new session: (cookie value, session); ``session_id`` lets a caller audit its ref first."""
        session_id = session_id or new_session_id()
        csrf = secrets.token_urlsafe(32)
        now = time.time_ns()
        digest = _sha256(session_id)
        with self.engine.begin() as conn:
            conn.execute(
                web_sessions.insert().values(
                    session_sha256=digest,
                    principal=principal,
                    csrf_token=csrf,
                    created_ns=now,
                    expires_ns=now + self.ttl_ns,
                    revoked_ns=None,
                    ip=ip,
                )
            )
        return session_id, WebSession(principal, csrf, digest[:12])

    def resolve(self, session_id: str) -> WebSession | None:
        """The live session for a cookie value, or None."""
        digest = _sha256(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.session_sha256 == digest)).first()
        if row is None or row.revoked_ns is not None or row.expires_ns <= time.time_ns():
            return None
        return WebSession(row.principal, row.csrf_token, digest[:12])

    def end(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                web_sessions.update()
                .where(web_sessions.c.session_sha256 == _sha256(session_id))
                .values(revoked_ns=time.time_ns())
            )


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf_token, presented)
