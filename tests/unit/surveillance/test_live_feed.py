"""The live intake: chunks cut into lines wherever they split, observed in order, errors after good lines."""

from __future__ import annotations

import io
import json
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event
from orderguard.surveillance.json_lines import LineError
from orderguard.surveillance.live import LineSplitter, feed_engine, follow, read_chunks
from orderguard.surveillance.stream import OutOfOrderEventError, StreamEngine
from tests.unit.surveillance.helpers import Events


def abuse() -> list[Event]:
    """A front-running pair, a copy trade and some views: enough for several alerts."""
    b = Events()
    b.personal(0, "alice", "AAPL", "buy", 10)
    b.view(1, "carol", records=2)
    b.order(30, "bob", "O1", "AAPL", side="buy", qty=5000)
    b.execution(40, "O1", "AAPL", "buy", 5000)
    b.personal(50, "bob", "AAPL", "buy", 10)
    b.view(60, "carol", account="C-é", records=1)
    return b.events


def jsonl(events: list[Event]) -> bytes:
    return "".join(json.dumps(e.to_record(), ensure_ascii=False) + "\n" for e in events).encode()


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any byte, even inside a character)."""
    edges = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in pairwise(edges)]


def one_at_a_time(firm: FirmConfig, events: list[Event]) -> list[Alert]:
    engine = StreamEngine(firm)
    return [alert for event in events for alert in engine.observe(event)]


class TestLineSplitter:
    @settings(max_examples=200, deadline=None)
    @given(cuts=st.lists(st.integers(0, 10_000), max_size=12))
    def test_lines_do_not_depend_on_where_chunks_split(self, cuts: list[int]) -> None:
        """However the bytes arrive, the same lines come out, numbered in order, the last one at the end."""
        data = 'a\n\nb é\r\n{"x": 1}\nlast'.encode()
        splitter = LineSplitter("s")
        lines: list[str] = []
        for chunk in pieces(data, cuts):
            found, error = splitter.lines(chunk)
            assert error is None
            lines += found
        rest, error = splitter.rest()
        assert error is None
        assert [*lines, *rest] == ["a", "", "b é\r", '{"x": 1}', "last"]
        assert splitter.next_number == 6

    def test_undecodable_line_is_named_after_the_good_ones(self) -> None:
        """Bytes that are not UTF-8 give the good lines before them and an error naming their line."""
        splitter = LineSplitter("feed.jsonl")
        lines, error = splitter.lines(b"one\ntwo\nth\xffree\nfour\n")
        assert lines == ["one", "two"]
        assert error is not None
        assert str(error).startswith("feed.jsonl, line 3: not UTF-8 text (byte 3 of the line)")


class TestFeedEngine:
    @settings(max_examples=25, deadline=None)
    @given(cuts=st.lists(st.integers(0, 10_000), max_size=10))
    def test_same_alerts_as_observing_one_event_at_a_time(self, firm: FirmConfig, cuts: list[int]) -> None:
        """Read in chunks split anywhere, the stream alerts exactly as the engine fed event by event."""
        events = abuse()
        emitted: list[list[Alert]] = []
        engine = StreamEngine(firm)
        alerted = feed_engine(engine, pieces(jsonl(events), cuts), "s", emitted.append)
        alerts = [alert for batch in emitted for alert in batch]
        expected = one_at_a_time(firm, events)
        assert alerted is bool(expected)
        assert alerts == expected
        assert len(expected) >= 2
        assert engine.seen == len(events)

    def test_bad_line_stops_after_the_lines_before_it(self, firm: FirmConfig) -> None:
        """A bad line raises its error naming the line, after every earlier event was observed and alerted."""
        events = abuse()
        lines = jsonl(events).decode().splitlines(keepends=True)
        lines.insert(5, '{"event_id": "x", "kind": "login"}\n')
        emitted: list[list[Alert]] = []
        engine = StreamEngine(firm)
        with pytest.raises(LineError, match=r"^feed\.jsonl, line 6"):
            feed_engine(engine, [("".join(lines)).encode()], "feed.jsonl", emitted.append)
        assert engine.seen == 5
        assert [a for batch in emitted for a in batch] == one_at_a_time(firm, events[:5])

    def test_event_out_of_order_is_the_engines_error(self, firm: FirmConfig) -> None:
        """An event earlier than the one before it stops the stream with the engine's own error."""
        events = abuse()
        data = jsonl([events[1], events[0]])
        with pytest.raises(OutOfOrderEventError, match="e1"):
            feed_engine(StreamEngine(firm), read_chunks(io.BytesIO(data)), "s", lambda _alerts: None)

    def test_seq_continues_after_a_restore(self, firm: FirmConfig) -> None:
        """Events read after a snapshot restore are numbered from where the snapshot stopped."""
        events = abuse()
        first = StreamEngine(firm)
        feed_engine(first, [jsonl(events[:3])], "s", lambda _alerts: None)
        second = StreamEngine(firm)
        second.restore(first.snapshot())
        emitted: list[list[Alert]] = []
        feed_engine(second, [jsonl(events[3:])], "s", emitted.append)
        assert second.seen == len(events)
        before = one_at_a_time(firm, events[:3])
        assert [a for batch in emitted for a in batch] == one_at_a_time(firm, events)[len(before) :]


class TestFollow:
    def test_reads_what_is_there_and_stops_when_idle(self, tmp_path: Path) -> None:
        """Following a file yields its bytes, including a last line without newline, then stops when idle."""
        path = tmp_path / "events.jsonl"
        path.write_bytes(b"one\ntwo\nthr")
        data = b"".join(follow(path, idle_exit=0.05, poll=0.01, size=4))
        assert data == b"one\ntwo\nthr"
