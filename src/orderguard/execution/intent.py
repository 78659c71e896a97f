"""The order intent: what the originator asks the venue to do, its canonical bytes and digest.

The canonical encoding is JSON with sorted keys, no whitespace, ASCII only,
decimals as plain strings (no exponent, no trailing zeros), the nonce as hex
and times as integer epoch nanoseconds. ``from_canonical`` accepts only bytes
that re-encode to themselves, so one intent has exactly one encoding and one
digest. The 128-bit random nonce makes the digest unguessable: publishing the
digest in clear does not let anyone confirm a guessed order.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from orderguard.domain import Side

FORMAT: Final = "orderguard.order-intent.v1"
NONCE_BYTES: Final = 16
_NONCE_RE: Final = re.compile(r"^[0-9a-f]{32}$")
_ID_RE: Final = re.compile(r"^[A-Za-z0-9_.:@/-]{1,128}$")
_DECIMAL_RE: Final = re.compile(r"^(0|[1-9][0-9]{0,17})(\.[0-9]{0,8}[1-9])?$")
_KEYS: Final = frozenset(
    {
        "format",
        "order_id",
        "originator",
        "account",
        "symbol",
        "side",
        "qty",
        "price",
        "venue",
        "nonce",
        "created_ns",
        "expires_ns",
    }
)


class IntentError(ValueError):
    """An order intent with a missing, malformed or inconsistent field."""


def canonical_decimal(value: Decimal) -> str:
    """A positive finite decimal as plain text: '100.5', '2500'; never '1E+3' or '100.50'."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One limit order as the originator signed it. Times are epoch nanoseconds UTC."""

    order_id: str
    originator: str
    account: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    venue: str
    nonce: bytes
    created_ns: int
    expires_ns: int

    def __post_init__(self) -> None:
        for name in ("order_id", "originator", "account", "symbol", "venue"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _ID_RE.match(value):
                raise IntentError(
                    f"order intent field {name!r} = {value!r}: expected 1-128 characters of "
                    "letters, digits and _ . : @ / -"
                )
        if not isinstance(self.side, Side):
            raise IntentError(f"order intent field 'side' = {self.side!r}: expected 'buy' or 'sell'")
        for name in ("qty", "price"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise IntentError(f"order intent field {name!r} = {value!r}: expected a positive Decimal")
            if not _DECIMAL_RE.match(canonical_decimal(value)):
                raise IntentError(
                    f"order intent field {name!r} = {value}: at most 18 integer and 9 fraction digits"
                )
        if not isinstance(self.nonce, bytes) or len(self.nonce) != NONCE_BYTES:
            raise IntentError(f"order intent field 'nonce': expected {NONCE_BYTES} random bytes")
        if not 0 < self.created_ns < self.expires_ns < 1 << 63:
            raise IntentError(
                f"order intent times: need 0 < created_ns ({self.created_ns}) "
                f"< expires_ns ({self.expires_ns})"
            )

    @property
    def notional(self) -> Decimal:
        """qty x price, exact."""
        return self.qty * self.price

    def canonical_bytes(self) -> bytes:
        record = {
            "account": self.account,
            "created_ns": self.created_ns,
            "expires_ns": self.expires_ns,
            "format": FORMAT,
            "nonce": self.nonce.hex(),
            "order_id": self.order_id,
            "originator": self.originator,
            "price": canonical_decimal(self.price),
            "qty": canonical_decimal(self.qty),
            "side": self.side.value,
            "symbol": self.symbol,
            "venue": self.venue,
        }
        return _dumps(record)

    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: the identity every signature and attestation names."""
        return hashlib.sha256(self.canonical_bytes()).digest()

    @classmethod
    def from_canonical(cls, data: bytes) -> OrderIntent:
        """Parse canonical bytes; anything that is not exactly canonical is an IntentError."""
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IntentError(f"order intent is not JSON: {exc}") from None
        if not isinstance(record, dict) or set(record) != _KEYS:
            raise IntentError(f"order intent must have exactly the keys {sorted(_KEYS)}")
        # Re-encoding what was read must give the same bytes: this refuses whitespace, key order,
        # repeated keys, needless escapes and non-ASCII in one comparison. The field checks below
        # refuse the remaining non-canonical spellings (decimals, nonce case, number types).
        if _dumps(record) != data:
            raise IntentError("order intent bytes are not in canonical form")
        if record["format"] != FORMAT:
            raise IntentError(f"order intent format {record['format']!r} is not {FORMAT!r}")
        nonce = _text(record["nonce"], "nonce")
        if not _NONCE_RE.match(nonce):
            raise IntentError(f"field 'nonce' must be {2 * NONCE_BYTES} lowercase hex digits")
        try:
            return cls(
                order_id=record["order_id"],
                originator=record["originator"],
                account=record["account"],
                symbol=record["symbol"],
                side=Side(record["side"]),
                qty=_decimal(record["qty"], "qty"),
                price=_decimal(record["price"], "price"),
                venue=record["venue"],
                nonce=bytes.fromhex(nonce),
                created_ns=_int(record["created_ns"], "created_ns"),
                expires_ns=_int(record["expires_ns"], "expires_ns"),
            )
        except ValueError as exc:
            raise IntentError(f"order intent: {exc}") from None


# One encoder for every call: json.dumps with non-default options builds a new encoder each time.
_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _dumps(record: dict[str, object]) -> bytes:
    return _ENCODER.encode(record).encode("ascii")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise IntentError(f"field {name!r} must be a string")
    return value


def _int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise IntentError(f"field {name!r} must be an integer")
    return value


def _decimal(value: object, name: str) -> Decimal:
    text = _text(value, name)
    if not _DECIMAL_RE.match(text):
        raise IntentError(f"field {name!r} = {text!r} is not a plain positive decimal")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise IntentError(f"field {name!r} = {text!r} is not a decimal") from None
