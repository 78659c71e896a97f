"""Value checks over whole columns: one vectorized test per rule, rows located only when a rule fails."""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import COMMON_REQUIRED, REQUIRED_FIELDS, EventKind, Side
from orderguard.ingest._locate import Locator, true_indices
from orderguard.ingest._unique import all_distinct
from orderguard.ingest.errors import IngestError
from orderguard.ingest.schema import INPUT_TYPES

KINDS: Final = tuple(k.value for k in EventKind)
SIDES: Final = tuple(s.value for s in Side)
_KIND_SET: Final = pa.array(KINDS)
_SIDE_SET: Final = pa.array(SIDES)

# For each optional v1 field: a lookup table from kind code (index in KINDS) to "required for this kind".
_REQUIRED_BY_KIND: Final = {
    name: np.array([name in REQUIRED_FIELDS[EventKind(kind)] for kind in KINDS], dtype=bool)
    for name in INPUT_TYPES
    if name not in COMMON_REQUIRED
}


def _missing(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Null, or empty text: both count as absent."""
    if pa.types.is_string(column.type):
        return pc.or_kleene(pc.is_null(column), pc.equal(column, ""))
    return pc.is_null(column)


class ValueChecker:
    """Runs every v1 value rule over coerced columns of one file and records the first failing rows."""

    def __init__(self, path: str, locate: Locator, limit: int) -> None:
        self.path = path
        self.locate = locate
        self.limit = limit
        self.errors: list[IngestError] = []

    def _report(
        self,
        mask: pa.ChunkedArray | pa.Array,
        field: str,
        expected: str,
        fix: str,
        column: pa.ChunkedArray | None = None,
    ) -> None:
        for row in true_indices(mask, self.limit):
            found = repr(column[row].as_py()) if column is not None else None
            self.errors.append(
                IngestError(self.path, self.locate(row), field, expected, found=found, fix=fix)
            )

    def check(self, columns: dict[str, pa.ChunkedArray], unreadable: set[str]) -> None:
        """Check required fields, kinds, sides, quantities, prices, record counts and duplicate ids."""
        for name in COMMON_REQUIRED:
            if name in columns:
                self._report(
                    _missing(columns[name]),
                    name,
                    "a value (required for every event)",
                    f"fill in {name} in every record",
                )
        kind = columns.get("kind")
        if kind is not None:
            self._check_kinds(columns, kind, unreadable)
        self._check_values(columns)
        event_id = columns.get("event_id")
        if event_id is not None:
            self._check_unique(event_id)

    def _check_kinds(
        self, columns: dict[str, pa.ChunkedArray], kind: pa.ChunkedArray, unreadable: set[str]
    ) -> None:
        codes = pc.index_in(kind, value_set=_KIND_SET)
        unknown = pc.and_(pc.is_valid(kind), pc.is_null(codes))
        unknown = pc.and_(unknown, pc.not_equal(kind, ""))
        self._report(unknown, "kind", f"one of {', '.join(KINDS)}", "use a v1 kind name in lower case", kind)
        code_array = pc.fill_null(codes, len(KINDS)).to_numpy()
        for name, required in _REQUIRED_BY_KIND.items():
            if not required.any() or name in unreadable:
                continue
            needs = np.append(required, False)[code_array]
            if not needs.any():
                continue
            column = columns.get(name)
            absent = pa.array(needs) if column is None else pc.and_(pa.array(needs), _missing(column))
            if not pc.any(absent).as_py():
                continue
            first = true_indices(absent, 1)[0]
            self._report(
                absent,
                name,
                f"a value: {kind[first].as_py()} events require {name}",
                f"fill in {name}, or check the kind (required fields per kind: docs/event-format.md)",
            )

    def _check_values(self, columns: dict[str, pa.ChunkedArray]) -> None:
        side = columns.get("side")
        if side is not None:
            bad = pc.and_(pc.invert(pc.is_in(side, value_set=_SIDE_SET)), pc.not_equal(side, ""))
            self._report(
                bad, "side", "'buy' or 'sell'", "write the side as 'buy' or 'sell' in lower case", side
            )
        for name in ("qty", "price"):
            column = columns.get(name)
            if column is not None:
                good = pc.and_(pc.is_finite(column), pc.greater(column, 0.0))
                self._report(
                    pc.invert(good),
                    name,
                    "a positive finite number",
                    f"{name} is an absolute amount; the side says buy or sell",
                    column,
                )
        records = columns.get("records")
        if records is not None:
            self._report(
                pc.less(records, 0),
                "records",
                "a whole number >= 0",
                "count the records touched",
                records,
            )

    def _check_unique(self, event_id: pa.ChunkedArray) -> None:
        if all_distinct(event_id):
            return
        counts = pc.value_counts(pc.drop_null(event_id))
        repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        first_seen: dict[str, int] = {}
        for row in true_indices(pc.is_in(event_id, value_set=repeated), 10 * self.limit):
            value = event_id[row].as_py()
            if value in first_seen:
                self.errors.append(
                    IngestError(
                        self.path,
                        self.locate(row),
                        "event_id",
                        "a unique event_id",
                        found=f"{value!r}, already used at {self.locate(first_seen[value])}",
                        fix="give every event its own id",
                    )
                )
            else:
                first_seen[value] = row
