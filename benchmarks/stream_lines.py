"""The live intake's costs for bench_surveillance.py's stream part: JSON Lines in, read as `watch` reads.

* backlog: lines already waiting, read in 64 KiB chunks through ``live.feed_engine`` (what `watch` does):
  lines per second, wall, one core. A tree without ``feed_engine`` (the session-2 code, for a baseline
  run with PYTHONPATH) runs its own watch loop instead: ``parse_line`` + ``observe`` one line at a time.
* per line: ``parse_line`` + ``observe`` one line at a time, in either tree (the session-2 path).
* paced: four seconds of lines arriving at a steady rate; latency from a line's arrival until its
  event has been observed (p50 / p99 / p99.9), the reader taking whatever has arrived when it reads.
* cli: `orderguard watch` as a process over a file of the lines (stdin), CPU seconds beyond the same
  command's start-up on an empty input (medians of three runs each): what a user's pipeline pays.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHUNK = 1 << 16


def _percentiles(waits: list[int]) -> dict[str, float]:
    waits.sort()

    def pct(q: float) -> float:
        return waits[min(len(waits) - 1, int(q * len(waits)))] / 1000

    return {"p50_us": pct(0.5), "p99_us": pct(0.99), "p999_us": pct(0.999)}


class _TimedEngine:
    """The engine with the time each event's observe ended (what the paced latency needs)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.done: list[int] = []

    @property
    def seen(self) -> int:
        return int(self.engine.seen)

    def observe(self, event: Any) -> Any:
        found = self.engine.observe(event)
        self.done.append(time.perf_counter_ns())
        return found


def _feed_engine() -> Callable[..., bool] | None:
    try:
        from orderguard.surveillance.live import feed_engine
    except ImportError:  # the session-2 tree
        return None
    return feed_engine


def _parse_line() -> Callable[..., Any]:
    try:
        from orderguard.surveillance.json_lines import parse_line
    except ImportError:  # the session-2 tree
        from orderguard.surveillance.live import parse_line  # type: ignore[attr-defined,no-redef]
    return parse_line


def _per_line(engine: Any, lines: list[str]) -> None:
    parse_line = _parse_line()
    for number, line in enumerate(lines, start=1):
        event = parse_line(line, "bench", number, engine.seen)
        if event is not None:
            engine.observe(event)


def line_costs(new_engine: Callable[[], Any], lines: list[str], rate: float) -> dict[str, Any]:
    """Lines per second (backlog, per line) and the paced latency, for ``lines`` (no newlines)."""
    feed = _feed_engine()
    data = "".join(line + "\n" for line in lines).encode()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    engine = new_engine()
    start = time.perf_counter()
    if feed is not None:
        feed(engine, chunks, "bench", lambda _alerts: None)
    else:
        _per_line(engine, lines)
    backlog = len(lines) / (time.perf_counter() - start)
    engine = new_engine()
    start = time.perf_counter()
    _per_line(engine, lines)
    per_line = len(lines) / (time.perf_counter() - start)
    return {
        "lines": len(lines),
        "chunked": feed is not None,
        "backlog_per_second": backlog,
        "per_line_per_second": per_line,
        "rate": rate,
        **_paced(new_engine, lines, rate, feed),
    }


def _paced(new_engine: Callable[[], Any], lines: list[str], rate: float, feed: Any) -> dict[str, float]:
    """Latency from arrival at ``rate`` lines/s: each read takes every line that has arrived by then."""
    lines = lines[: round(4 * rate)]  # four seconds of arrivals
    clock = time.perf_counter_ns
    encoded = [(line + "\n").encode() for line in lines]
    engine = _TimedEngine(new_engine())
    start = clock() + 1_000_000
    arrival = [start + round(i * 1e9 / rate) for i in range(len(lines))]

    def arrived() -> Iterator[bytes]:
        taken = 0
        while taken < len(encoded):
            while clock() < arrival[taken]:
                pass
            now, end = clock(), taken + 1
            while end < len(encoded) and arrival[end] <= now:
                end += 1
            yield b"".join(encoded[taken:end])
            taken = end

    if feed is not None:
        feed(engine, arrived(), "bench", lambda _alerts: None)
    else:
        parse_line = _parse_line()
        for number, chunk in enumerate(arrived(), start=1):  # one line per chunk at most rates
            for line in chunk.decode().splitlines():
                event = parse_line(line, "bench", number, engine.seen)
                if event is not None:
                    engine.observe(event)
    waits = [done - came for done, came in zip(engine.done, arrival, strict=True)]
    return {f"paced_{k}": v for k, v in _percentiles(waits).items()}


def cli_watch(events_jsonl: Path, firm: Path, lines: int, workdir: Path) -> dict[str, float]:
    """`orderguard watch` over the file's first ``lines`` lines: lines per CPU second beyond start-up."""
    sample = workdir / f"watch-{lines}.jsonl"
    with events_jsonl.open("rb") as source, sample.open("wb") as out:
        for _, line in zip(range(lines), source, strict=False):
            out.write(line)
    empty = workdir / "empty.jsonl"
    empty.write_bytes(b"")
    command = [
        sys.executable,
        "-c",
        "from orderguard.cli.main import app; app()",
        "watch",
        "--config",
        str(firm),
    ]

    def run(path: Path) -> tuple[float, float]:
        with path.open("rb") as stdin:
            began = time.perf_counter()
            child = subprocess.Popen(
                command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - began
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"orderguard watch failed on {path}")
        return usage.ru_utime + usage.ru_stime, wall

    # Medians of three: start-up alone varies by 0.2-0.3 CPU s between runs.
    idle_cpu, idle_wall = (statistics.median(t) for t in zip(*(run(empty) for _ in range(3)), strict=True))
    full_cpu, full_wall = (statistics.median(t) for t in zip(*(run(sample) for _ in range(3)), strict=True))
    return {
        "cli_lines": lines,
        "cli_start_cpu_s": idle_cpu,
        "cli_per_cpu_second": lines / (full_cpu - idle_cpu),
        "cli_per_wall_second": lines / (full_wall - idle_wall),
    }


if __name__ == "__main__":  # a quick look: python benchmarks/stream_lines.py EVENTS.jsonl FIRM.toml [LINES]
    path, firm_file = Path(sys.argv[1]), Path(sys.argv[2])
    print(
        json.dumps(
            cli_watch(path, firm_file, int(sys.argv[3]) if len(sys.argv) > 3 else 100_000, Path("/tmp"))
        )
    )
