"""Timestamp text on the columnar path agrees with the domain's parse_ts/format_ts to the nanosecond."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain import format_ts, parse_ts
from orderguard.ingest import batch_from_records
from orderguard.ingest.writer import ts_text

# 1970 .. 2200 in ns: what Arrow timestamp[ns] holds comfortably.
NANOS = st.integers(min_value=0, max_value=7_258_118_400 * 10**9)


class TestTimestampText:
    @settings(max_examples=200, deadline=None)
    @given(st.lists(NANOS, min_size=1, max_size=20))
    def test_columnar_parse_matches_domain(self, values: list[int]) -> None:
        """Text from format_ts read by intake gives back the same epoch nanoseconds."""
        records = [
            {"event_id": str(i), "ts": format_ts(v), "kind": "login", "actor": "a"}
            for i, v in enumerate(values)
        ]
        batch = batch_from_records(records)
        assert batch.table.column("ts").cast(pa.int64()).to_pylist() == values

    @settings(max_examples=200, deadline=None)
    @given(st.lists(NANOS, min_size=1, max_size=20))
    def test_columnar_format_matches_domain(self, values: list[int]) -> None:
        """The writer's ts text is exactly format_ts, and parse_ts reads it back."""
        texts = ts_text(pa.array(values, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))).to_pylist()
        assert texts == [format_ts(v) for v in values]
        assert [parse_ts(t) for t in texts] == values

    def test_short_fractions_and_variants(self, tmp_path: Path) -> None:
        """Short fractions, lower-case t/z, a space separator and +00:00 are all UTC and accepted."""
        texts = [
            "2026-11-20T14:30:00.5Z",
            "2026-11-20t14:30:00z",
            "2026-11-20 14:30:00+00:00",
            "2026-11-20T14:30:00-00:00",
        ]
        records = [{"event_id": str(i), "ts": t, "kind": "login", "actor": "a"} for i, t in enumerate(texts)]
        got = batch_from_records(records).table.column("ts").cast(pa.int64()).to_pylist()
        assert got == [parse_ts(t) for t in texts]
