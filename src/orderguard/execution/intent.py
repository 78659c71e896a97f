"""The order intent: what the originator asks the venue to do, its canonical bytes and digest.

The canonical encoding is JSON with sorted keys, no whitespace, ASCII only,
decimals as plain strings (no exponent, no trailing zeros), the nonce as hex
and times as integer epoch nanoseconds. ``from_canonical`` accepts only bytes
that re-encode to themselves, so one intent has exactly one encoding and one
digest. The 128-bit random nonce makes the digest unguessable: publishing the
digest in clear does not let anyone confirm a guessed order.

Every field's alphabet (identifiers, plain decimals, hex, integers) needs no JSON
escaping, so the canonical bytes are written with one format string, and read back
with one anchored pattern that matches exactly the canonical bytes of a valid intent;
anything else goes through the JSON parser, which names what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from orderguard.domain import Side

FORMAT: Final = "orderguard.order-intent.v1"
NONCE_BYTES: Final = 16
# fullmatch, not match with "$": "$" also matches before a trailing newline ("ORD-1\n").
_ID: Final = r"[A-Za-z0-9_.:@/-]{1,128}"
_DECIMAL: Final = r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{0,8}[1-9])?"
_NONCE_RE: Final = re.compile(r"[0-9a-f]{32}")
_ID_RE: Final = re.compile(_ID)
_DECIMAL_RE: Final = re.compile(_DECIMAL)
_SIDES: Final = {side.value: side for side in Side}
_IDS_RE: Final = re.compile(rf"{_ID}(?:\n{_ID}){{4}}")  # the five identifiers, newline-joined
_DIGITS: Final = r"[1-9][0-9]{0,18}"  # a positive int below 10**19; the range check is in __post_init__
# The canonical bytes of an intent, field by field, in key order (see canonical_bytes).
_CANONICAL_RE: Final = re.compile(
    rf'\{{"account":"({_ID})","created_ns":({_DIGITS}),"expires_ns":({_DIGITS}),'
    rf'"format":"{re.escape(FORMAT)}","nonce":"([0-9a-f]{{32}})","order_id":"({_ID})",'
    rf'"originator":"({_ID})","price":"({_DECIMAL})","qty":"({_DECIMAL})","side":"(buy|sell)",'
    rf'"symbol":"({_ID})","venue":"({_ID})"\}}'
)
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
    text = str(value)
    if _DECIMAL_RE.fullmatch(text):  # already plain, without exponent or trailing zeros: the common case
        return text
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _decimal_text(value: object, name: str) -> str:
    """The canonical text of a positive Decimal within the encoding's digits, else an IntentError."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise IntentError(f"order intent field {name!r} = {value!r}: expected a positive Decimal")
    text = canonical_decimal(value)
    if not _DECIMAL_RE.fullmatch(text):
        raise IntentError(f"order intent field {name!r} = {value}: at most 18 integer and 9 fraction digits")
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
    # The canonical bytes, written once on first use (or taken from the bytes the intent was read from).
    _canonical: bytes = field(default=b"", init=False, repr=False, compare=False)
    # canonical_decimal(qty), canonical_decimal(price): computed by the validation, reused by the encoding.
    _decimals: tuple[str, str] = field(default=("", ""), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:  # one pattern over the five, joined (a non-string does not join)
            ids = "\n".join((self.order_id, self.originator, self.account, self.symbol, self.venue))
        except TypeError:
            ids = ""
        if not _IDS_RE.fullmatch(ids):
            self._refuse_ids()
        if not isinstance(self.side, Side):
            raise IntentError(f"order intent field 'side' = {self.side!r}: expected 'buy' or 'sell'")
        qty_text, price_text = _decimal_text(self.qty, "qty"), _decimal_text(self.price, "price")
        if not isinstance(self.nonce, bytes) or len(self.nonce) != NONCE_BYTES:
            raise IntentError(f"order intent field 'nonce': expected {NONCE_BYTES} random bytes")
        created_ns, expires_ns = self.created_ns, self.expires_ns
        if type(created_ns) is not int or type(expires_ns) is not int:
            raise IntentError(f"order intent times must be integers: {created_ns!r}, {expires_ns!r}")
        if not 0 < created_ns < expires_ns < 1 << 63:
            raise IntentError(
                f"order intent times: need 0 < created_ns ({created_ns}) < expires_ns ({expires_ns})"
            )
        object.__setattr__(self, "_decimals", (qty_text, price_text))

    def _refuse_ids(self) -> None:
        for name in ("order_id", "originator", "account", "symbol", "venue"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _ID_RE.fullmatch(value):
                raise IntentError(
                    f"order intent field {name!r} = {value!r}: expected 1-128 characters of "
                    "letters, digits and _ . : @ / -"
                )
        raise IntentError("order intent identifiers are malformed")  # not reached: one field is bad

    @property
    def notional(self) -> Decimal:
        """qty x price, exact."""
        return self.qty * self.price

    def canonical_bytes(self) -> bytes:
        """Compact JSON with sorted keys: no field's validated alphabet needs escaping (module doc).

        ``side`` is a StrEnum: it formats as its value.
        """
        if not self._canonical:
            qty, price = self._decimals
            text = (
                f'{{"account":"{self.account}","created_ns":{self.created_ns},'
                f'"expires_ns":{self.expires_ns},"format":"{FORMAT}","nonce":"{self.nonce.hex()}",'
                f'"order_id":"{self.order_id}","originator":"{self.originator}","price":"{price}",'
                f'"qty":"{qty}","side":"{self.side}","symbol":"{self.symbol}","venue":"{self.venue}"}}'
            )
            object.__setattr__(self, "_canonical", text.encode("ascii"))
        return self._canonical

    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: the identity every signature and attestation names."""
        return hashlib.sha256(self.canonical_bytes()).digest()

    @classmethod
    def from_canonical(cls, data: bytes) -> OrderIntent:
        """Parse canonical bytes; anything that is not exactly canonical is an IntentError."""
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        fields = _CANONICAL_RE.fullmatch(text)
        if fields is None:  # not canonical: the JSON reading below says why
            return cls._from_json(data)
        account, created, expires, nonce, order_id, originator, price, qty, side, symbol, venue = (
            fields.groups()
        )
        intent = cls(
            order_id,
            originator,
            account,
            symbol,
            _SIDES[side],
            Decimal(qty),
            Decimal(price),
            venue,
            bytes.fromhex(nonce),
            int(created),
            int(expires),
        )
        object.__setattr__(intent, "_canonical", bytes(data))  # exactly what canonical_bytes() writes
        return intent

    @classmethod
    def _from_json(cls, data: bytes) -> OrderIntent:
        """The general reading: JSON, then field checks; an IntentError naming the problem."""
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
        if not _NONCE_RE.fullmatch(nonce):
            raise IntentError(f"field 'nonce' must be {2 * NONCE_BYTES} lowercase hex digits")
        try:
            intent = cls(
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
        if intent.canonical_bytes() != data:  # e.g. "1\n" reads as the decimal 1: one intent, one encoding
            raise IntentError("order intent bytes are not in canonical form")
        return intent


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
    if not _DECIMAL_RE.fullmatch(text):
        raise IntentError(f"field {name!r} = {text!r} is not a plain positive decimal")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise IntentError(f"field {name!r} = {text!r} is not a decimal") from None
