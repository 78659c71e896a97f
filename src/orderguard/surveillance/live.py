"""Feeding the stream engine from JSON Lines: standard input or a growing file, read in chunks.

Input is read as it arrives, whatever is available up to 64 KiB at a time
(never waiting to fill a chunk), cut into complete lines, decoded as a block
(``json_lines.parse_lines``) and observed in order. A bad line stops the
stream after every line before it has been observed, naming source and line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from orderguard.surveillance.json_lines import LineError, parse_lines

if TYPE_CHECKING:
    from orderguard.domain.alerts import Alert
    from orderguard.surveillance.stream import StreamEngine

CHUNK_BYTES: Final = 1 << 16


def read_chunks(stream: BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """What a binary stream has, as it arrives: one read at a time, up to ``size`` bytes, until its end."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(size):
        yield chunk


def follow(
    path: Path, *, idle_exit: float | None = None, poll: float = 0.1, size: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """Chunks of a file that keeps growing (like ``tail -f``).

    Stops after ``idle_exit`` seconds without new bytes (never, when None). A
    partial last line is the reader's to hold back (``LineSplitter``).
    """
    with path.open("rb") as handle:
        idle_since = time.monotonic()
        while True:
            chunk = handle.read(size)
            if chunk:
                yield chunk
                idle_since = time.monotonic()
                continue
            if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                return
            time.sleep(poll)


class LineSplitter:
    """Cuts chunks of bytes into complete UTF-8 lines, holding back a partial last line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.next_number = 1  # the number of the first line not yet given out
        self._pending = b""

    def lines(self, chunk: bytes) -> tuple[list[str], LineError | None]:
        """The complete lines so far (without newlines) and the error of an undecodable one."""
        end = chunk.rfind(b"\n")
        if end < 0:
            self._pending += chunk
            return [], None
        data, self._pending = self._pending + chunk[:end], chunk[end + 1 :]
        return self._decode(data)

    def rest(self) -> tuple[list[str], LineError | None]:
        """The last line when the input ends without a newline (none when it is blank)."""
        data, self._pending = self._pending, b""
        return self._decode(data) if data.strip() else ([], None)

    def _decode(self, data: bytes) -> tuple[list[str], LineError | None]:
        error = None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Lines never split a character: the ones before the bad byte's line are good.
            start = data.rfind(b"\n", 0, exc.start) + 1
            text = data[: max(start - 1, 0)].decode("utf-8") if start else ""
            number = self.next_number + data.count(b"\n", 0, start)
            error = LineError(
                f"{self.source}, line {number}: not UTF-8 text (byte {exc.start - start + 1} of the line); "
                "fix: write the events as UTF-8 JSON"
            )
        lines = text.split("\n") if text or error is None else []
        self.next_number += len(lines)
        return lines, error


def feed_engine(
    engine: StreamEngine,
    chunks: Iterable[bytes],
    source: str,
    emit: Callable[[list[Alert]], None],
) -> bool:
    """Observe every line's event in order, giving ``emit`` each chunk's alerts; whether any alerted.

    Raises the first bad line's LineError (or the engine's OutOfOrderEventError)
    after observing all events before it and emitting their alerts.
    """
    splitter = LineSplitter(source)
    alerted = False
    observe = engine.observe

    def run(lines: list[str], error: LineError | None) -> None:
        nonlocal alerted
        events, parse_error = parse_lines(lines, source, splitter.next_number - len(lines), engine.seen)
        alerts: list[Alert] = []
        try:
            for event in events:
                found = observe(event)
                if found:
                    alerts += found
        finally:
            if alerts:
                alerted = True
                emit(alerts)
        if parse_error is not None or error is not None:
            raise parse_error or error  # type: ignore[misc]

    for chunk in chunks:
        run(*splitter.lines(chunk))
    run(*splitter.rest())
    return alerted
