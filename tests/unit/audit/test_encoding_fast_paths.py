"""The append path's shortcuts (cached header pieces, digit-split timestamps) give the canonical bytes."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.audit import encoding
from orderguard.audit.encoding import (
    EncodingError,
    canonical_json,
    encode_entry,
    encode_for_log,
    encode_header,
    header_fields,
    rfc3339_ns,
)
from orderguard.domain.audit import AuditAction, AuditEntry

ENTRY = AuditEntry(
    kind="order",
    action=AuditAction.CREATED,
    object_id="ord-1",
    actor="trader-7",
    ts=1_763_000_000_123_456_789,
    after={"qty": 100},
    decision="allow",
    reason_code="ALLOWED",
    policy_ids=("p-venue",),
)


class _Text(str):
    """A str subclass: the fast path must not treat it differently from the general encoder."""


def general(entry: AuditEntry) -> bytes:
    return canonical_json(header_fields(entry), "header")


class TestHeaderCache:
    def test_repeated_and_varied_entries_match_the_general_encoder(self) -> None:
        """Entries sharing actor, kind and reason but not id or time are encoded as the general path does."""
        encoding._HEADS.clear()
        encoding._MIDDLES.clear()
        for number in range(5):
            entry = dataclasses.replace(ENTRY, object_id=f"ord-{number}", ts=ENTRY.ts + number * 7_919)
            assert encode_header(entry) == general(entry)
        assert len(encoding._HEADS) == 1
        assert len(encoding._MIDDLES) == 1

    def test_str_subclass_and_list_policy_ids_match(self) -> None:
        """A str subclass value or a list of policy ids gives the same bytes as a plain str or a tuple."""
        odd = dataclasses.replace(ENTRY, actor=_Text("trader-7"), policy_ids=["p-venue"])  # type: ignore[arg-type]
        assert encode_header(odd) == general(ENTRY)

    def test_unhashable_field_is_refused_by_name(self) -> None:
        """A list where a text field belongs is refused with the field's name, not a TypeError."""
        with pytest.raises(EncodingError, match="'actor'"):
            encode_header(dataclasses.replace(ENTRY, actor=["trader-7"]))  # type: ignore[arg-type]

    def test_empty_object_id_is_refused_after_a_cache_hit(self) -> None:
        """A cached head does not let an empty object id through."""
        encode_header(ENTRY)
        with pytest.raises(EncodingError, match="'object_id'"):
            encode_header(dataclasses.replace(ENTRY, object_id=""))

    def test_cache_is_bounded(self) -> None:
        """The header-piece caches are emptied once they reach their limit, so memory stays bounded."""
        encoding._HEADS.clear()
        for number in range(encoding._CACHE_LIMIT + 10):
            entry = dataclasses.replace(ENTRY, actor=f"trader-{number}")
            assert encode_header(entry) == general(entry)
        assert len(encoding._HEADS) <= encoding._CACHE_LIMIT


def reference_rfc3339(ts_ns: int) -> str:
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{encoding._second_text(seconds)}.{nanos:09d}Z"


class TestTimestampText:
    @settings(max_examples=200)
    @given(st.integers(min_value=0, max_value=253_402_300_799_999_999_999))
    def test_digit_split_equals_divmod(self, ts_ns: int) -> None:
        """Splitting the decimal digits gives the same text as dividing by 10**9, to the year 9999."""
        assert rfc3339_ns(ts_ns) == reference_rfc3339(ts_ns)

    @pytest.mark.parametrize("ts_ns", [0, 1, 999_999_999, 1_000_000_000, 1_000_000_001, 59_999_999_999])
    def test_boundaries(self, ts_ns: int) -> None:
        """Times around the first second of the epoch take either path with the same result."""
        assert rfc3339_ns(ts_ns) == reference_rfc3339(ts_ns)


class TestBatchEncoder:
    @pytest.mark.parametrize("count", [1, 2, 7])
    def test_each_entry_matches_encode_entry_with_its_salt(self, count: int) -> None:
        """Single and batch encoding give, per entry, encode_entry's commitment, header and payload."""
        entries = [dataclasses.replace(ENTRY, object_id=f"ord-{n}") for n in range(count)]
        encoded = encode_for_log(entries)
        assert len(encoded) == count
        for entry, (tail, salt, payload) in zip(entries, encoded, strict=True):
            reference = encode_entry(entry, salt=salt)
            assert tail == reference.commitment + reference.header
            assert payload == reference.payload
        assert len({salt for _, salt, _ in encoded}) == count
