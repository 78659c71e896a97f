"""The blob fast path hashes exactly what hashlib would, and passes only ranges the row-by-row scan passes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.audit.bulk import hash_messages, levels_of, node_level, scan_blobs
from orderguard.audit.column_blobs import RangeBlobs
from orderguard.audit.merkle import parent_level
from orderguard.audit.scan import scan_columns
from tests.unit.audit.test_scan import START, columns, stored


def blobs_of(rows: list[list[object]], with_payload: list[int] | None = None) -> RangeBlobs:
    """The blobs a database would return for ``rows``; ``with_payload`` lists the surviving payload rows."""
    idxs = [int(row[0]) for row in rows]  # type: ignore[call-overload]
    kept = [row for row in rows if row[3] is not None]
    return RangeBlobs(
        bounds=(min(idxs), max(idxs)),
        odd_hashes=sum(len(row[1]) != 32 for row in rows),  # type: ignore[arg-type]
        stored_hashes=b"".join(row[1] for row in rows),  # type: ignore[misc]
        leaves=b"".join(row[2] for row in rows),  # type: ignore[misc]
        leaf_lengths=np.array([len(row[2]) for row in rows], dtype=np.int64),  # type: ignore[arg-type]
        payload_bounds=(int(kept[0][0]), int(kept[-1][0])) if kept else (None, None),  # type: ignore[call-overload]
        commit_inputs=b"".join(row[3] + row[4] for row in kept),  # type: ignore[operator]
        commit_lengths=np.array([len(row[3]) + len(row[4]) for row in kept], dtype=np.int64),  # type: ignore[arg-type]
        payload_idxs=None if with_payload is None else np.array(with_payload, dtype=np.int64),
    )


class TestHashMessages:
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.binary(max_size=200), max_size=40), st.sampled_from([b"", b"\x00", b"\x01ab"]))
    def test_same_digests_as_hashlib(self, messages: list[bytes], prefix: bytes) -> None:
        """Each row is SHA-256(prefix || message), in input order, whatever the mix of lengths."""
        lengths = np.array([len(m) for m in messages], dtype=np.int64)
        found = hash_messages(b"".join(messages), lengths, prefix)
        assert found.tobytes() == b"".join(hashlib.sha256(prefix + m).digest() for m in messages)


class TestNodeLevel:
    @pytest.mark.parametrize("hashes", [0, 1, 2, 7, 64, 301])
    def test_same_parents_as_merkle(self, hashes: int) -> None:
        """The whole-array level equals merkle.parent_level, an odd last hash left out."""
        level = os.urandom(32 * hashes)
        assert node_level(level) == parent_level(level)

    def test_levels_end_at_one_hash(self) -> None:
        """levels_of stops once a level holds a single hash."""
        levels = levels_of(os.urandom(32 * 8))
        assert [len(level) // 32 for level in levels] == [8, 4, 2, 1]


class TestScanBlobs:
    def test_intact_range_matches_row_scan(self) -> None:
        """An honest range passes in bulk with the row scan's levels and no suspects."""
        rows = stored(37)
        fast = scan_blobs(START, blobs_of(rows))
        assert fast is not None
        slow = scan_columns(START, columns(rows))
        assert (fast.levels, fast.suspects, fast.gap) == (slow.levels, [], None)

    def test_erased_payload_is_a_suspect(self) -> None:
        """A row without its payload row passes in bulk but is handed back for the erasure check."""
        rows = stored(9)
        rows[4][3] = rows[4][4] = None
        fast = scan_blobs(START, blobs_of(rows, [START + n for n in range(9) if n != 4]))
        assert fast is not None
        assert fast.suspects == scan_columns(START, columns(rows)).suspects
        assert [row[0] for row in fast.suspects] == [START + 4]

    def test_payload_bounds_disagreeing_with_list_fall_back(self) -> None:
        """Listed payload rows outside the range send it to the row scan."""
        rows = stored(6)
        rows[0][3] = rows[0][4] = None
        listed = [START + n for n in range(1, 6)]
        assert scan_blobs(START, replace(blobs_of(rows, listed), payload_bounds=(START, START + 5))) is None

    @pytest.mark.parametrize(
        "tamper",
        ["payload byte", "hash split", "swapped leaves", "gap", "short leaf", "stored hash"],
    )
    def test_tampered_range_falls_back(self, tamper: str) -> None:
        """Every kind of damage makes the bulk path give the range up to the row scan."""
        rows = stored(8)
        if tamper == "payload byte":
            rows[3][4] = b"[" + rows[3][4][1:]  # type: ignore[index]
        elif tamper == "hash split":
            first, second = rows[2][1], rows[3][1]
            rows[2][1], rows[3][1] = first[:-1], first[-1:] + second  # type: ignore[index]
        elif tamper == "swapped leaves":
            rows[1][1:], rows[2][1:] = rows[2][1:], rows[1][1:]
        elif tamper == "gap":
            del rows[5]
        elif tamper == "short leaf":
            rows[6][2] = b"\x01" * 20
            rows[6][1] = hashlib.sha256(b"\x00" + rows[6][2]).digest()  # type: ignore[operator]
        else:
            rows[0][1] = bytes(32)
        assert scan_blobs(START, blobs_of(rows)) is None

    def test_empty_range_falls_back(self) -> None:
        """A range with no rows is left to the row scan, which reports the gap."""
        empty = np.zeros(0, dtype=np.int64)
        blobs = RangeBlobs((None, None), 0, b"", b"", empty, (None, None), b"", empty, None)
        assert scan_blobs(START, blobs) is None
