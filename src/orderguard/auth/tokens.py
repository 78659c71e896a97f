"""API tokens per principal: random, shown once, stored as SHA-256, rotated and revoked.

A token reads ``og_<token id>_<secret>``. The token id is public (listings, audit entries); only
SHA-256 of the secret is stored, and the comparison is constant-time. A verified token is
remembered for ``CACHE_SECONDS`` so that order entry does not pay a database read per request;
revoking or rotating through this process takes effect at once, through another process within
that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, and_, or_, select, tuple_

from orderguard.storage.api_tables import api_tokens

PREFIX: Final = "og_"
CACHE_SECONDS: Final = 2.0


class TokenError(ValueError):
    """A token that cannot be used; the message says why (never echoes the secret)."""


class TokenState(StrEnum):
    """Where a token stands now: usable, revoked by someone, or past its expiry."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


# A listing's sort key (owner, created_ns, token_id): unique, so pages neither repeat nor skip.
TokenKey = tuple[str, int, str]
TOKEN_KEY_SHAPE: Final = (str, int, str)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    principal: str
    label: str
    created_ns: int
    expires_ns: int | None
    revoked_ns: int | None

    def active(self, now: int) -> bool:
        return self.revoked_ns is None and (self.expires_ns is None or now < self.expires_ns)

    def state(self, now: int) -> TokenState:
        if self.revoked_ns is not None:
            return TokenState.REVOKED
        return TokenState.ACTIVE if self.active(now) else TokenState.EXPIRED

    @property
    def key(self) -> TokenKey:
        return (self.principal, self.created_ns, self.token_id)

    @property
    def lifetime_seconds(self) -> float | None:
        return None if self.expires_ns is None else (self.expires_ns - self.created_ns) / 1e9


def new_token_id() -> str:
    return secrets.token_hex(6)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenService:
    """Issue, check, rotate and revoke API tokens in the ``api_tokens`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._verified: dict[str, tuple[TokenInfo, float]] = {}

    def issue(
        self,
        principal: str,
        label: str = "api",
        *,
        ttl_seconds: float | None = None,
        token_id: str | None = None,
    ) -> str:
        """A new token for ``principal``; the returned text is the only copy of the secret.

        ``token_id`` (from ``new_token_id``) lets a caller audit the id before the token exists.
        """
        token_id = token_id or new_token_id()
        secret = secrets.token_urlsafe(32)
        now = time.time_ns()
        with self.engine.begin() as conn:
            conn.execute(
                api_tokens.insert().values(
                    token_id=token_id,
                    principal=principal,
                    secret_sha256=_sha256(secret),
                    label=label,
                    created_ns=now,
                    expires_ns=None if ttl_seconds is None else now + int(ttl_seconds * 1e9),
                    revoked_ns=None,
                )
            )
        return f"{PREFIX}{token_id}_{secret}"

    def remembered(self, token: str) -> TokenInfo | None:
        """The record of ``token`` if it was verified within ``CACHE_SECONDS`` and is still active.

        No database read (callers on an event loop use this first, then ``check`` in a thread).
        """
        remembered = self._verified.get(_sha256(token))
        if (
            remembered is None
            or remembered[1] <= time.monotonic()
            or not remembered[0].active(time.time_ns())
        ):
            return None
        return remembered[0]

    def check(self, token: str) -> TokenInfo:
        """The token's record if the token is genuine and active, else TokenError."""
        if not token.startswith(PREFIX) or token.count("_") < 2:
            raise TokenError("malformed API token; expected og_<id>_<secret> as issued")
        token_id, secret = token[len(PREFIX) :].split("_", 1)
        digest = _sha256(token)
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
        # Compare even when the id is unknown so timing does not reveal which ids exist.
        stored = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(stored, _sha256(secret)) or row is None:
            raise TokenError("unknown API token")
        info = _info(row)
        if not info.active(time.time_ns()):
            raise TokenError(f"API token {token_id} is revoked or expired; ask for a new one")
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[digest] = (info, time.monotonic() + CACHE_SECONDS)
        return info

    def get(self, token_id: str) -> TokenInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
        return None if row is None else _info(row)

    def list_all(self) -> list[TokenInfo]:
        """Every principal's tokens (never secrets), by principal then age."""
        query = select(api_tokens).order_by(api_tokens.c.principal, api_tokens.c.created_ns)
        with self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def page(
        self,
        *,
        limit: int,
        after: tuple[str | int, ...] | None = None,
        owner: str | None = None,
        state: TokenState | None = None,
    ) -> tuple[list[TokenInfo], bool]:
        """Up to ``limit`` tokens (never secrets) after the key ``after``, by owner then age, and
        whether more follow; only ``owner``'s and only those in ``state`` when given."""
        c = api_tokens.c
        query = select(api_tokens).order_by(c.principal, c.created_ns, c.token_id).limit(limit + 1)
        if after is not None:
            query = query.where(tuple_(c.principal, c.created_ns, c.token_id) > tuple_(*after))
        if owner is not None:
            query = query.where(c.principal == owner)
        if state is not None:
            query = query.where(_in_state(state, time.time_ns()))
        with self.engine.connect() as conn:
            found = [_info(row) for row in conn.execute(query)]
        return found[:limit], len(found) > limit

    def list(self, principal: str) -> list[TokenInfo]:
        query = (
            select(api_tokens).where(api_tokens.c.principal == principal).order_by(api_tokens.c.created_ns)
        )
        with self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def revoke(self, token_id: str, *, principal: str | None = None) -> bool:
        """Revoke ``token_id`` (only ``principal``'s own when given); False if there was nothing to revoke."""
        statement = api_tokens.update().where(
            api_tokens.c.token_id == token_id, api_tokens.c.revoked_ns.is_(None)
        )
        if principal is not None:
            statement = statement.where(api_tokens.c.principal == principal)
        self._verified.clear()
        with self.engine.begin() as conn:
            revoked = conn.execute(statement.values(revoked_ns=time.time_ns())).rowcount > 0
        # again after the commit: a check between the first clear and the commit re-cached the token
        self._verified.clear()
        return revoked

    def rotate(self, token_id: str, *, principal: str, replacement_id: str | None = None) -> str:
        """Revoke ``token_id`` and issue a replacement with the same label and lifetime, in one step."""
        old = self.get(token_id)
        if old is None or old.principal != principal or not old.active(time.time_ns()):
            raise TokenError(f"no active API token {token_id} of {principal} to rotate")
        self.revoke(token_id, principal=principal)
        return self.issue(principal, old.label, ttl_seconds=old.lifetime_seconds, token_id=replacement_id)


def _in_state(state: TokenState, now: int) -> ColumnElement[Any]:
    c = api_tokens.c
    unexpired = or_(c.expires_ns.is_(None), c.expires_ns > now)
    if state is TokenState.REVOKED:
        return c.revoked_ns.is_not(None)
    if state is TokenState.ACTIVE:
        return and_(c.revoked_ns.is_(None), unexpired)
    return and_(c.revoked_ns.is_(None), c.expires_ns <= now)


def _info(row: object) -> TokenInfo:
    r = row._mapping  # type: ignore[attr-defined]
    return TokenInfo(
        r["token_id"], r["principal"], r["label"], r["created_ns"], r["expires_ns"], r["revoked_ns"]
    )
