"""The live line parser: its fast path makes exactly the Event intake makes, and leaves the rest to intake."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain.events import V1_FIELDS, Event
from orderguard.ingest import IngestError, batch_from_records
from orderguard.surveillance.json_lines import LineError, parse_line, plain_event

TEXT = st.sampled_from(["A", "AAPL", "C-1", "", "é-x"])
NUMBER = st.one_of(
    st.sampled_from([1, 10, 2**53, 2**60, -3, 0, 0.5, 1e308, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
)
TS = st.sampled_from(
    [
        "2026-11-20T14:30:00.123456789Z",
        "2026-11-20 14:30:00z",
        "2026-11-20t14:30:00+00:00",
        "2024-02-29T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T10:00:00.5Z",
        "2026-11-20T24:00:00Z",
        "2026-11-20T14:30:00+01:00",
        "yesterday",
        "2026-11-20T14:30:\u06655.123456789Z",
    ]
)
VALUE: dict[str, st.SearchStrategy[Any]] = {
    "event_id": st.sampled_from(["e1", "", 7]),
    "ts": st.one_of(TS, st.just(1)),
    "kind": st.sampled_from(["client_order", "execution", "order_view", "login", "data_export", "nope"]),
    "actor": st.sampled_from(["alice", ""]),
    "side": st.sampled_from(["buy", "sell", "BUY", ""]),
    "qty": NUMBER,
    "price": NUMBER,
    "records": st.sampled_from([0, 5, -1, 2**63, 2.0, True]),
}


LOGIN: dict[str, object] = {"event_id": "e1", "ts": "2026-11-20T14:30:00Z", "kind": "login", "actor": "a"}


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    record: dict[str, object] = dict(LOGIN)
    for name in draw(st.lists(st.sampled_from([*V1_FIELDS, "extra_note"]), max_size=8)):
        record[name] = draw(VALUE.get(name, TEXT if name != "extra_note" else st.just("kept")))
    return record


def through_intake(record: dict[str, object], seq: int) -> Event | str | type[Exception]:
    """What intake alone makes of the record: the event, its error message, or the exception it raises."""
    try:
        return next(batch_from_records([record], source="s, line 1", start_seq=seq).iter_events())
    except IngestError as exc:
        return str(exc)
    except ValueError as exc:  # intake's own failure (an empty side), which the fast path must not hide
        return type(exc)


def same(a: Event, b: Event) -> bool:
    return a == b and dict(a.extra) == dict(b.extra) and type(a.qty) is type(b.qty) and a.side is b.side


class TestParseLine:
    @settings(max_examples=300, deadline=None)
    @given(record=records(), seq=st.integers(min_value=0, max_value=10**6))
    def test_same_event_or_error_as_intake(self, record: dict[str, object], seq: int) -> None:
        """Any record gives the very event intake gives, or intake's own error naming the line."""
        expected = through_intake(record, seq)
        line = json.dumps(record)
        if isinstance(expected, type):
            assert plain_event(record, seq) is None
            with pytest.raises(expected):
                parse_line(line, "s", 1, seq)
        elif isinstance(expected, str):
            assert plain_event(record, seq) is None
            with pytest.raises(LineError) as raised:
                parse_line(line, "s", 1, seq)
            assert str(raised.value) == expected
        else:
            parsed = parse_line(line, "s", 1, seq)
            assert parsed is not None
            assert same(parsed, expected)

    def test_plain_record_takes_the_fast_path(self) -> None:
        """A complete, well-typed execution record is built without intake, identical to intake's."""
        record = {
            "event_id": "e9",
            "ts": "2026-11-20T14:30:00.000000001Z",
            "kind": "execution",
            "actor": "bob",
            "account": "C-1",
            "symbol": "AAPL",
            "side": "sell",
            "qty": 100,
            "price": 10.5,
            "order_id": "O1",
            "venue": "XNYS",
        }
        event = plain_event(record, 3)
        assert event is not None
        expected = through_intake(record, 3)
        assert isinstance(expected, Event)
        assert same(event, expected)
        assert event.qty == 100.0

    def test_unknown_field_goes_through_intake(self) -> None:
        """A record with a field beyond v1 is left to intake, which keeps the field as extra."""
        record = {**LOGIN, "desk": "x"}
        assert plain_event(record, 0) is None
        event = parse_line(json.dumps(record), "s", 1, 0)
        assert event is not None
        assert dict(event.extra) == {"desk": "x"}

    def test_impossible_date_goes_through_intake(self) -> None:
        """30 February is refused by intake, not rolled over into March."""
        record = {**LOGIN, "ts": "2026-02-30T10:00:00Z"}
        assert plain_event(record, 0) is None
        with pytest.raises(LineError, match="ts"):
            parse_line(json.dumps(record), "s", 1, 0)
