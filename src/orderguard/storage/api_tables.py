"""Tables of the interfaces area (created by migration 0006_api): API tokens, web logins and sessions.

Secrets are never stored: a token or session id is kept as the SHA-256 of its random secret part,
a password as an scrypt hash with its salt and parameters.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, PrimaryKeyConstraint, Table, Text

from orderguard.storage.schema import metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Text, nullable=False),  # public part of the token, shown in listings
    Column("principal", Text, nullable=False),
    Column("secret_sha256", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=True),
    Column("revoked_ns", BigInteger, nullable=True),
    PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
    Index("ix_api_tokens_principal", "principal"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_sha256", Text, nullable=False),
    Column("principal", Text, nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Column("revoked_ns", BigInteger, nullable=True),
    Column("ip", Text, nullable=True),
    PrimaryKeyConstraint("session_sha256", name="pk_web_sessions"),
)

web_credentials = Table(
    "web_credentials",
    metadata,
    Column("principal", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # scrypt$n$r$p$salt_hex$hash_hex
    Column("updated_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("principal", name="pk_web_credentials"),
)
