"""The bulk range scan flags exactly the rows a row-by-row check would flag."""

from __future__ import annotations

from orderguard.audit.encoding import encode_entry
from orderguard.audit.merkle import MerkleTree, hash_leaf
from orderguard.audit.scan import Columns, scan_columns
from orderguard.domain.audit import AuditAction, AuditEntry

START = 64  # a range that does not begin at zero, as every range but the first


def stored(count: int) -> list[list[object]]:
    """Rows (idx, leaf hash, leaf, salt, payload) of ``count`` honest entries from index START."""
    rows: list[list[object]] = []
    for offset in range(count):
        entry = AuditEntry(
            kind="order", action=AuditAction.CREATED, object_id=f"o{offset}", actor="a", ts=offset
        )
        encoded = encode_entry(entry)
        leaf = encoded.leaf(START + offset)
        rows.append([START + offset, hash_leaf(leaf), leaf, encoded.salt, encoded.payload])
    return rows


def columns(rows: list[list[object]]) -> Columns:
    return tuple(map(list, zip(*rows, strict=True)))  # type: ignore[return-value]


class TestScanColumns:
    def test_intact_range_has_no_suspects_and_exact_levels(self) -> None:
        """An honest range yields no suspects, and its levels are those of a tree over its leaf hashes."""
        rows = stored(8)
        scan = scan_columns(START, columns(rows))
        assert scan.suspects == []
        assert scan.gap is None
        expected = MerkleTree.from_concatenated(b"".join(row[1] for row in rows))  # type: ignore[misc]
        assert scan.levels == [bytes(level) for level in expected._levels]

    def test_hash_split_across_two_rows_is_flagged(self) -> None:
        """Moving one byte of a stored hash into the next row keeps the joined bytes but flags both rows."""
        rows = stored(6)
        first, second = rows[2][1], rows[3][1]
        rows[2][1], rows[3][1] = first[:-1], first[-1:] + second  # type: ignore[index]
        scan = scan_columns(START, columns(rows))
        assert [row[0] for row in scan.suspects] == [START + 2, START + 3]

    def test_missing_payload_and_gap(self) -> None:
        """A row without payload is a suspect, and a missing index ends the range with a gap."""
        rows = stored(6)
        rows[1][3] = rows[1][4] = None
        del rows[4]
        scan = scan_columns(START, columns(rows))
        assert [row[0] for row in scan.suspects] == [START + 1]
        assert scan.gap == (START + 4, START + 5)
        assert scan.count == 4
