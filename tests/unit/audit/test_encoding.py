"""Entry encoding is canonical, documented and reproducible from the description in docs/audit.md."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.audit.encoding import (
    EncodingError,
    canonical_json,
    decode_leaf,
    decode_payload,
    encode_entry,
    encode_for_log,
    encode_header,
    encode_payload,
    header_fields,
    leaf_index,
    payload_fields,
    rfc3339_ns,
)
from orderguard.audit.merkle import hash_leaf
from orderguard.domain.audit import AuditAction, AuditEntry

ENTRY = AuditEntry(
    kind="order",
    action=AuditAction.APPROVED,
    object_id="ord-1",
    actor="compliance-ö",
    ts=1_763_649_000_123_456_789,
    clock="ptp",
    before={"state": "pending"},
    after={"state": "approved", "qty": 10, "px": 12.5},
    ip="10.1.2.3",
    session_id="s9",
    decision="allow",
    reason_code="ALLOWED",
    policy_ids=("p2", "p1"),
)


def independent_leaf(entry: AuditEntry, index: int, salt: bytes) -> bytes:
    """The leaf bytes written straight from the documented rules, without the module's helpers."""

    def canon(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    payload = canon(
        {"after": entry.after, "before": entry.before, "ip": entry.ip, "session_id": entry.session_id}
    )
    header = canon(
        {
            "v": 1, "kind": entry.kind, "action": str(entry.action), "object_id": entry.object_id,
            "actor": entry.actor, "ts_ns": entry.ts, "ts": "2025-11-20T14:30:00.123456789Z",
            "clock": entry.clock, "decision": entry.decision, "reason_code": entry.reason_code,
            "policy_ids": list(entry.policy_ids),
        }
    )  # fmt: skip
    return b"\x01" + struct.pack(">Q", index) + hashlib.sha256(salt + payload).digest() + header


class TestEncoding:
    def test_matches_the_documented_layout(self) -> None:
        """The leaf equals version || index || SHA-256(salt || payload) || header, built independently."""
        salt = bytes(range(16))
        encoded = encode_entry(ENTRY, salt=salt)
        assert encoded.leaf(7) == independent_leaf(ENTRY, 7, salt)
        assert (
            hash_leaf(encoded.leaf(7)) == hashlib.sha256(b"\x00" + independent_leaf(ENTRY, 7, salt)).digest()
        )

    def test_deterministic_given_the_salt(self) -> None:
        """The same entry and salt always give the same bytes; a fresh salt changes only the commitment."""
        salt = b"s" * 16
        assert encode_entry(ENTRY, salt=salt) == encode_entry(ENTRY, salt=salt)
        fresh = encode_entry(ENTRY)
        assert fresh.header == encode_entry(ENTRY, salt=salt).header
        assert fresh.commitment != encode_entry(ENTRY, salt=salt).commitment

    def test_decodes_back(self) -> None:
        """A leaf and payload decode back to the entry's fields."""
        encoded = encode_entry(ENTRY)
        view = decode_leaf(encoded.leaf(3))
        assert (view.index, view.header["actor"], view.header["ts"]) == (
            3,
            "compliance-ö",
            rfc3339_ns(ENTRY.ts),
        )
        assert leaf_index(encoded.leaf(2**40)) == 2**40
        assert decode_payload(encoded.payload)["after"] == ENTRY.after

    def test_rfc3339_nanoseconds(self) -> None:
        """Timestamps render as UTC RFC 3339 with nine fractional digits."""
        assert rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z"
        assert rfc3339_ns(ENTRY.ts) == "2025-11-20T14:30:00.123456789Z"

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"actor": ""}, "'actor'"),
            ({"ts": -1}, "'ts'"),
            ({"action": "launched"}, "'action'"),
            ({"after": {"px": float("nan")}}, "not JSON-ready"),
            ({"before": {"when": object()}}, "not JSON-ready"),
        ],
    )
    def test_bad_entries_name_the_field(self, change: dict[str, object], message: str) -> None:
        """An entry that cannot be encoded canonically is refused with the field named."""
        with pytest.raises(EncodingError, match=message):
            encode_entry(dataclasses.replace(ENTRY, **change))  # type: ignore[arg-type]

    def test_rejects_foreign_leaf(self) -> None:
        """A blob that is not a version-1 leaf is refused."""
        with pytest.raises(EncodingError, match="version 1"):
            decode_leaf(b"\x02" + bytes(60))

    @settings(max_examples=50)
    @given(st.dictionaries(st.text(), st.integers() | st.text() | st.none() | st.booleans(), max_size=5))
    def test_key_order_does_not_matter(self, state: dict[str, object]) -> None:
        """Two dicts with the same items in a different order encode identically."""
        reordered = dict(reversed(list(state.items())))
        salt = b"x" * 16
        one = encode_entry(dataclasses.replace(ENTRY, after=state), salt=salt)
        two = encode_entry(dataclasses.replace(ENTRY, after=reordered), salt=salt)
        assert one == two


_TEXT = st.text(min_size=1, max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_ENTRIES = st.builds(
    AuditEntry,
    kind=_TEXT,
    action=st.sampled_from(list(AuditAction)),
    object_id=_TEXT,
    actor=_TEXT,
    ts=st.integers(min_value=0, max_value=2**63),
    clock=_TEXT,
    before=st.none() | st.dictionaries(st.text(max_size=5), _JSON, max_size=4),
    after=st.none() | st.dictionaries(st.text(max_size=5), _JSON, max_size=4),
    ip=st.none() | st.text(max_size=10),
    session_id=st.none() | st.text(max_size=10),
    decision=st.none() | st.text(max_size=8),
    reason_code=st.none() | st.text(max_size=8),
    policy_ids=st.lists(st.text(max_size=6), max_size=3).map(tuple),
)


class TestFastEncoder:
    @settings(max_examples=150)
    @given(_ENTRIES)
    def test_fast_paths_equal_the_general_canonical_encoder(self, entry: AuditEntry) -> None:
        """The direct header and payload writers give the bytes the general canonical encoder gives."""
        try:
            header = canonical_json(header_fields(entry), "header")
        except EncodingError:  # lone surrogates cannot be UTF-8: both paths must refuse them
            with pytest.raises(EncodingError):
                encode_header(entry)
        else:
            assert encode_header(entry) == header
        try:
            payload = canonical_json(payload_fields(entry), "payload")
        except EncodingError:
            with pytest.raises(EncodingError):
                encode_payload(entry)
        else:
            assert encode_payload(entry) == payload

    def test_unusual_types_take_the_general_path(self) -> None:
        """A non-str policy id or a bool timestamp is encoded or refused exactly as the general path does."""
        odd = dataclasses.replace(ENTRY, policy_ids=(1, "p"))  # type: ignore[arg-type]
        assert encode_header(odd) == canonical_json(header_fields(odd), "header")
        with pytest.raises(EncodingError, match="'ts'"):
            encode_header(dataclasses.replace(ENTRY, ts=True))

    def test_log_encoding_matches_encode_entry(self) -> None:
        """The append path's batch encoder gives each entry's commitment and header with a fresh salt each."""
        (tail1, salt1, payload1), (_, salt2, _) = encode_for_log([ENTRY, ENTRY])
        reference = encode_entry(ENTRY, salt=salt1)
        assert tail1 == reference.commitment + reference.header
        assert payload1 == reference.payload
        assert len(salt1) == 16
        assert salt1 != salt2


class TestDocumentedExample:
    def test_docs_example_reproduces(self) -> None:
        """The worked example in docs/audit.md is what the code produces, so the page can be trusted."""
        docs = (Path(__file__).resolve().parents[3] / "docs" / "audit.md").read_text()
        example = AuditEntry(
            kind="order",
            action=AuditAction.CREATED,
            object_id="ord-1",
            actor="trader-7",
            ts=1_763_649_000_123_456_789,
            after={"qty": 100, "symbol": "ACME"},
            ip="10.0.0.7",
            session_id="s-1",
            decision="allow",
            reason_code="ALLOWED",
            policy_ids=("venue-allowlist",),
        )
        encoded = encode_entry(example, salt=bytes(range(16)))
        assert f"header  {encoded.header.decode()}\n" in docs
        assert f"payload {encoded.payload.decode()}\n" in docs
        assert f"= {encoded.commitment.hex()}\n" in docs
        assert f"leaf hash                = {hash_leaf(encoded.leaf(0)).hex()}\n" in docs
