"""Block decoding of JSON Lines: exactly what parsing each line alone gives, errors on the same line."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain.events import Event, parse_ts
from orderguard.surveillance.json_lines import LineError, _plain_ts, parse_line, parse_lines

LOGIN = '{"event_id": "e%d", "ts": "2026-11-20T14:30:%02d.123456789Z", "kind": "login", "actor": "a"}'
# Lines that are fine alone, and pieces that only make sense joined to a neighbour.
PIECES = st.sampled_from(
    [
        LOGIN % (1, 1),
        LOGIN % (2, 2),
        "",
        "   ",
        '{"event_id": "e3", "ts": "2026-11-20T14:30:03Z", "kind": "login", "actor": "a"}\r',
        '{"event_id": "e4", "ts": "2026-11-20T14:30:04Z", "kind": "login", "actor": "a", "desk": "x"}',
        '{"event_id": "e5", "ts": "2026-02-30T10:00:00.000000000Z", "kind": "login", "actor": "a"}',
        '{"event_id": "e6", "ts": "2026-11-20T14:30:06Z", "kind": "login"',
        '"actor": "b"}',
        '{"x": 1}, {"y": 2}',
        '{"x": 1},{"y":',
        "2}",
        '{"a": "}',
        '{"}',
        "[1",
        "2]",
        "7",
        "1, 2",
        "]",
        "[",
        "{",
        "}",
        "\ufeff{}",
        "not json",
    ]
)


def one_by_one(lines: list[str], first_number: int, first_seq: int) -> tuple[list[Event], str | None]:
    """What parse_line gives line by line: the events before the first bad line and its message."""
    events: list[Event] = []
    for number, line in enumerate(lines, start=first_number):
        try:
            event = parse_line(line, "s", number, first_seq + len(events))
        except LineError as exc:
            return events, str(exc)
        if event is not None:
            events.append(event)
    return events, None


class TestParseLines:
    @settings(max_examples=400, deadline=None)
    @given(lines=st.lists(PIECES, max_size=8), first=st.integers(1, 50), seq=st.integers(0, 99))
    def test_block_equals_line_by_line(self, lines: list[str], first: int, seq: int) -> None:
        """Any block of lines gives the events and the first error that parsing each line alone gives."""
        events, error = parse_lines(lines, "s", first, seq)
        expected_events, expected_error = one_by_one(lines, first, seq)
        assert events == expected_events
        assert [e.seq for e in events] == [e.seq for e in expected_events]
        assert (None if error is None else str(error)) == expected_error

    def test_two_objects_on_one_line_are_refused(self) -> None:
        """Two objects on one line are that line's error even when a split object makes the count match."""
        lines = ['{"x": 1},{"y": 2}', '{"event_id": "e1", "ts": "2026-11-20T14:30:00Z"', '"kind": "login"}']
        events, error = parse_lines(lines, "feed.jsonl", 10, 0)
        assert events == []
        assert error is not None
        assert str(error).startswith("feed.jsonl, line 10: not valid JSON")

    def test_plain_block_numbers_events_in_order(self) -> None:
        """A block of plain lines becomes events whose seq counts up from the first one given."""
        lines = [LOGIN % (n, n) for n in range(5)]
        events, error = parse_lines(lines, "s", 1, 100)
        assert error is None
        assert [(e.event_id, e.seq) for e in events] == [(f"e{n}", 100 + n) for n in range(5)]

    def test_bad_field_names_line_and_keeps_lines_before(self) -> None:
        """A bad field stops the block at its line, named, with the good lines before it parsed."""
        bad = json.loads(LOGIN % (9, 9)) | {"kind": "client_order", "qty": "lots"}
        lines = [LOGIN % (1, 1), LOGIN % (2, 2), json.dumps(bad), LOGIN % (3, 3)]
        events, error = parse_lines(lines, "feed.jsonl", 7, 0)
        assert [e.event_id for e in events] == ["e1", "e2"]
        assert error is not None
        assert "feed.jsonl, line 9" in str(error)


class TestPlainTimestamp:
    @settings(max_examples=300, deadline=None)
    @given(
        seconds=st.integers(0, 4_102_444_799),
        fraction=st.integers(0, 999_999_999),
        second_text=st.sampled_from([None, "60", "5x", "\u06655", " 5"]),
    )
    def test_cached_minute_equals_full_parse(
        self, seconds: int, fraction: int, second_text: str | None
    ) -> None:
        """A timestamp read through its cached minute is parse_ts's value; a bad second is refused."""
        t = time.gmtime(seconds)
        minute = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
        text = f"{minute}{t.tm_sec:02d}.{fraction:09d}Z"
        assert _plain_ts(text) == parse_ts(text) == seconds * 1_000_000_000 + fraction
        assert _plain_ts(text) == parse_ts(text)  # the second read comes from the cache
        if second_text is not None:
            assert _plain_ts(f"{minute}{second_text}.{fraction:09d}Z") is None

    def test_impossible_date_is_never_cached(self) -> None:
        """30 February is refused every time, not cached as a minute of March."""
        for _ in range(2):
            assert _plain_ts("2026-02-30T10:00:00.000000000Z") is None
