"""Order intents: validation, the canonical encoding and the digest."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain import Side
from orderguard.execution import IntentError, OrderIntent
from orderguard.execution.intent import canonical_decimal

NOW = 1_763_700_000_000_000_000


def make(**changes: object) -> OrderIntent:
    fields: dict[str, object] = {
        "order_id": "ORD-1",
        "originator": "alice",
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "qty": Decimal(100),
        "price": Decimal("187.25"),
        "venue": "XNYS",
        "nonce": bytes(range(16)),
        "created_ns": NOW,
        "expires_ns": NOW + 30_000_000_000,
    }
    fields.update(changes)
    return OrderIntent(**fields)  # type: ignore[arg-type]


nonces = st.binary(min_size=16, max_size=16)
decimals = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(10**12), places=9)


class TestCanonicalEncoding:
    def test_encoding_is_sorted_compact_json(self) -> None:
        """The canonical bytes are compact JSON with sorted keys and decimals as plain strings."""
        data = make(price=Decimal("187.2500")).canonical_bytes()
        assert data.startswith(b'{"account":"C-PENSION-1","created_ns":')
        assert b'"price":"187.25"' in data
        assert b" " not in data

    @settings(max_examples=200)
    @given(qty=decimals, price=decimals, side=st.sampled_from(Side), nonce=nonces)
    def test_round_trip(self, qty: Decimal, price: Decimal, side: Side, nonce: bytes) -> None:
        """Decoding the canonical bytes gives back an equal intent with the same digest."""
        intent = make(qty=qty, price=price, side=side, nonce=nonce)
        decoded = OrderIntent.from_canonical(intent.canonical_bytes())
        assert decoded == intent
        assert decoded.digest() == intent.digest()

    def test_equal_values_written_differently_have_one_digest(self) -> None:
        """100, 100.0 and 1E+2 are the same quantity, hence the same bytes and digest."""
        digests = {make(qty=Decimal(v)).digest() for v in ("100", "100.0", "1E+2", "100.000")}
        assert len(digests) == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("order_id", "ORD-2"),
            ("originator", "bob"),
            ("account", "C-HEDGE-1"),
            ("symbol", "MSFT"),
            ("side", Side.SELL),
            ("qty", Decimal(101)),
            ("price", Decimal("187.26")),
            ("venue", "XNAS"),
            ("nonce", bytes(16)),
            ("created_ns", NOW + 1),
            ("expires_ns", NOW + 30_000_000_001),
        ],
    )
    def test_every_field_changes_the_digest(self, field: str, value: object) -> None:
        """No field is left out of the digest."""
        base = make()
        assert make(**{field: value}).digest() != base.digest()

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda b: b.replace(b'","', b'", "', 1),  # whitespace
            lambda b: b.replace(b'"qty":"100"', b'"qty":"100.0"'),  # non-canonical decimal
            lambda b: b.replace(b'"qty":"100"', b'"qty":100'),  # number instead of string
            lambda b: b.replace(b'{"account"', b'{"extra":1,"account"'),  # unknown key
            lambda b: b.replace(b'"side":"buy"', b'"side":"hold"'),  # bad enum
            lambda b: b[:-1],  # truncated
            lambda b: b.replace(b"0a0b", b"0A0B"),  # upper-case nonce hex
            lambda b: b.replace(b'"created_ns":', b'"created_ns":1E+18,"x":'),  # float time, extra key
        ],
    )
    def test_non_canonical_bytes_are_refused(self, mangle: object) -> None:
        """Only exactly canonical bytes decode; any variant is an IntentError."""
        assert callable(mangle)
        with pytest.raises(IntentError):
            OrderIntent.from_canonical(mangle(make().canonical_bytes()))

    def test_duplicate_keys_are_refused(self) -> None:
        """A JSON object that repeats a key is not an intent."""
        data = make().canonical_bytes().replace(b'{"account":"C-PENSION-1"', b'{"account":"X","account":"Y"')
        with pytest.raises(IntentError, match="canonical"):
            OrderIntent.from_canonical(data)


class TestFastReading:
    @settings(max_examples=300)
    @given(data=st.data(), qty=decimals, side=st.sampled_from(Side), nonce=nonces)
    def test_the_pattern_and_the_json_reading_agree_on_any_byte_change(
        self, data: st.DataObject, qty: Decimal, side: Side, nonce: bytes
    ) -> None:
        """After any one-byte change, the pattern reading and the JSON reading accept or refuse alike."""
        canonical = make(qty=qty, side=side, nonce=nonce).canonical_bytes()
        position = data.draw(st.integers(0, len(canonical) - 1), label="position")
        value = data.draw(st.integers(0, 255), label="value")
        changed = canonical[:position] + bytes([value]) + canonical[position + 1 :]
        outcomes: list[OrderIntent | None] = []
        for read in (OrderIntent.from_canonical, OrderIntent._from_json):
            try:
                intent = read(changed)
            except IntentError:
                outcomes.append(None)
            else:
                assert intent.canonical_bytes() == changed
                outcomes.append(intent)
        assert outcomes[0] == outcomes[1]

    def test_the_written_bytes_are_those_of_the_json_encoding(self) -> None:
        """The format-string writer gives exactly compact, sorted-key, ASCII JSON."""
        intent = make(qty=Decimal("0.000000001"), price=Decimal("1E+17"), account="a/b:c@d.e_f-g")
        record = json.loads(intent.canonical_bytes())
        assert json.dumps(record, sort_keys=True, separators=(",", ":")).encode() == intent.canonical_bytes()

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            (b'"ORD-1"', b'"ORD-1\\n"'),  # an identifier with a trailing newline
            (b'"qty":"100"', b'"qty":"100\\n"'),  # reads as the decimal 100, written "100"
        ],
    )
    def test_a_trailing_newline_is_not_canonical(self, old: bytes, new: bytes) -> None:
        """A trailing newline slips past a "$" pattern; the intent refuses it."""
        data = make().canonical_bytes().replace(old, new)
        assert data != make().canonical_bytes()
        with pytest.raises(IntentError):
            OrderIntent.from_canonical(data)

    def test_an_identifier_with_a_trailing_newline_is_refused(self) -> None:
        """An order id "ORD-1\\n" is not an identifier."""
        with pytest.raises(IntentError, match="order_id"):
            make(order_id="ORD-1\n")

    def test_times_must_be_integers(self) -> None:
        """True is not a time, though 0 < True < 2."""
        with pytest.raises(IntentError, match="integers"):
            make(created_ns=True, expires_ns=2)


class TestValidation:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"qty": Decimal(0)}, "'qty'"),
            ({"price": Decimal(-1)}, "'price'"),
            ({"price": Decimal("NaN")}, "'price'"),
            ({"qty": Decimal("0.0000000001")}, "fraction digits"),
            ({"symbol": "AA PL"}, "'symbol'"),
            ({"order_id": ""}, "'order_id'"),
            ({"nonce": b"short"}, "'nonce'"),
            ({"expires_ns": NOW}, "created_ns"),
        ],
    )
    def test_bad_fields_are_refused_with_the_field_named(
        self, changes: dict[str, object], message: str
    ) -> None:
        """A bad field is an IntentError that names the field."""
        with pytest.raises(IntentError, match=message):
            make(**changes)

    def test_notional_is_exact(self) -> None:
        """Notional is qty x price in exact decimal arithmetic."""
        assert make(qty=Decimal(3), price=Decimal("0.1")).notional == Decimal("0.3")

    def test_canonical_decimal_has_no_exponent_or_trailing_zeros(self) -> None:
        """Decimals print plainly."""
        assert [canonical_decimal(Decimal(v)) for v in ("1E+3", "2.50", "0.001")] == ["1000", "2.5", "0.001"]
