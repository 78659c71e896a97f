"""API token lifecycle as people drive it (web UI): issue, rotate, revoke, each audited first.

Owners issue and rotate their own tokens only: the secret is shown once, to the person it
authenticates. A credentials administrator (Cedar ``manage_credentials``) lists everyone's
tokens and revokes any of them with a reason, but never sees or mints another person's secret,
so that nobody can obtain a credential that acts as someone else. Every change is appended to
the audit log before it takes effect, with the requester's IP and session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from orderguard.auth.tokens import TokenError, TokenInfo, TokenService, new_token_id
from orderguard.domain import AuditAction, AuditEntry, AuditSink

LABEL_MAX: Final = 64
LIFETIME_DAYS_MAX: Final = 366
DAY_SECONDS: Final = 86_400


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for a token change, and from where (recorded with the change)."""

    principal: str
    ip: str | None
    session_id: str | None


def checked_label(label: str) -> str:
    """The label stripped, or TokenError naming the field and what it may hold."""
    text = label.strip()
    if not text or len(text) > LABEL_MAX or not text.isprintable():
        raise TokenError(f"label: give 1 to {LABEL_MAX} printable characters (e.g. 'laptop', 'risk-feed')")
    return text


def lifetime_days(text: str) -> int | None:
    """Days from a form's lifetime ("90", or "never" for None); TokenError naming the field otherwise."""
    if text.strip() == "never":
        return None
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= LIFETIME_DAYS_MAX:
        raise TokenError(f"lifetime: {text!r} is not 1 to {LIFETIME_DAYS_MAX} days or 'never'")
    return days


class TokenDesk:
    """Issue, rotate and revoke API tokens on behalf of a requester, auditing each change first."""

    def __init__(
        self, tokens: TokenService, audit: AuditSink, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.tokens = tokens
        self.audit = audit
        self.clock = clock

    def issue(self, by: Requester, label: str, lifetime: str) -> str:
        """A new token for the requester, valid for ``lifetime`` days (or "never" expiring); the
        returned text is the only copy of its secret."""
        label = checked_label(label)
        days = lifetime_days(lifetime)
        token_id = new_token_id()
        self._record(by, AuditAction.CREATED, token_id, owner=by.principal, label=label, lifetime_days=days)
        ttl = None if days is None else days * DAY_SECONDS
        return self.tokens.issue(by.principal, label, ttl_seconds=ttl, token_id=token_id)

    def issue_at_console(self, owner: str, label: str, *, operator: str) -> str:
        """A token for ``owner`` made by ``operator`` at the server's console, who sees its secret:
        the way a first API client gets a token. Audited with the operator as the actor."""
        label = checked_label(label)
        token_id = new_token_id()
        by = Requester(operator, None, "console")
        self._record(by, AuditAction.CREATED, token_id, owner=owner, label=label, lifetime_days=None)
        return self.tokens.issue(owner, label, token_id=token_id)

    def rotate(self, by: Requester, token_id: str) -> str:
        """Replace one of the requester's active tokens (same label and lifetime); the old one stops."""
        old = self._active(token_id, owner=by.principal)
        replacement = new_token_id()
        self._record(by, AuditAction.KEY_ROTATED, token_id, owner=old.principal, replacement=replacement)
        return self.tokens.rotate(token_id, principal=by.principal, replacement_id=replacement)

    def revoke(self, by: Requester, token_id: str, *, reason: str = "", any_owner: bool = False) -> TokenInfo:
        """Revoke the requester's token, or (``any_owner``, for administrators) anyone's with a reason."""
        token = self._active(token_id, owner=None if any_owner else by.principal)
        reason = reason.strip()
        if token.principal != by.principal and not reason:
            raise TokenError(f"reason: revoking {token.principal}'s token {token_id} needs a reason")
        self._record(by, AuditAction.KEY_REVOKED, token_id, owner=token.principal, reason=reason or None)
        self.tokens.revoke(token_id)
        return token

    def _active(self, token_id: str, *, owner: str | None) -> TokenInfo:
        token = self.tokens.get(token_id)
        if token is None or (owner is not None and token.principal != owner):
            whose = f" of {owner}" if owner else ""
            raise TokenError(f"no API token {token_id}{whose}; pick one from the list")
        if not token.active(time.time_ns()):
            raise TokenError(f"API token {token_id} is already revoked or expired")
        return token

    def _record(self, by: Requester, action: AuditAction, token_id: str, **after: object) -> None:
        self.audit.append(
            AuditEntry(
                kind="api_token",
                action=action,
                object_id=token_id,
                actor=by.principal,
                ts=self.clock(),
                after=after,
                ip=by.ip,
                session_id=by.session_id,
                decision="allow",
                reason_code="ALLOWED",
            )
        )
