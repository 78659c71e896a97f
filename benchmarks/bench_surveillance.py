"""Surveillance benchmark: batch (every detector) over a simulated day, DuckDB range-join baseline, streaming.

Run: .venv/bin/python benchmarks/bench_surveillance.py [--quick] [--events N] [--stream-events M]

* batch: a day of N events (default 10,000,000) from `orderguard sim`, cached as Parquet under
  benchmarks/data/ (gitignored); the columns the detectors read are loaded through
  orderguard.surveillance.load.read_day (string columns as dictionary codes; timed apart and
  reported), then every built-in detector runs; wall time per run and peak extra memory (VmHWM
  after the scan minus VmRSS before it, the high-water mark reset first through /proc/self/clear_refs).
* duckdb: the baselines of benchmarks/surveillance_duckdb.py (what each side does is written there):
  the front-running "before" join alone as a DuckDB SQL range join, and the whole front_running
  rule (order lifecycle, both modes) in SQL, over a native DuckDB table of the same day, 2 threads;
  neither side's timing includes reading the Parquet file.
* floor: steps any NumPy scan of the day pays at least once (benchmarks/surveillance_floor.py).
* stream: a day of M events (default 1,000,000) through every detector, one event at a time;
  events/s on one core and per-event latency percentiles (perf_counter_ns around observe()).
  The stream's alerts are checked against the batch engine's on the same day.
Each part runs in its own child process so that its memory is its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the benchmarks package sits beside src

from benchmarks.stream_floor import keyed_floor  # noqa: E402
from benchmarks.stream_lines import cli_watch, line_costs  # noqa: E402
from benchmarks.surveillance_duckdb import child_duckdb  # noqa: E402
from benchmarks.surveillance_floor import child_floor  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
FIRM = ROOT / "examples" / "firm.toml"
# Lines per second arriving in the paced JSON Lines measure (a busy live feed): well below either
# intake's capacity even on a loaded machine, so the latency is the intake's, not a queue's.
LINE_RATE = 5_000
SIM = (str(Path(sys.executable).parent / "orderguard"), "sim")


def ensure_day(events: int) -> Path:
    """The cached simulated day (events.parquet + firm.toml), generated with `orderguard sim` if absent."""
    out = DATA / f"surveillance-day-{events}-seed1"
    if not (out / "events.parquet").is_file() or not (out / "firm.toml").is_file():
        command = [
            str(Path(sys.executable).parent / "orderguard"),
            "sim",
            "--events",
            str(events),
            "--seed",
            "1",
            "--config",
            str(FIRM),
            "--out",
            str(out),
            "--format",
            "parquet",
        ]
        subprocess.run(command, check=True, capture_output=True)
    return out


def load_coded(day: Path) -> pa.Table:
    """As ``load``, through surveillance's own reader: group-by columns as one-dictionary int32 codes."""
    from orderguard.surveillance.load import read_day

    return read_day(day / "events.parquet")  # seq = row order: the file is sorted


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def child_batch(day: Path, runs: int) -> dict[str, Any]:
    from orderguard.config import load_config
    from orderguard.surveillance.batch import BatchEngine

    firm = load_config(day / "firm.toml")
    start = time.perf_counter()
    table = load_coded(day)
    loads = [time.perf_counter() - start]
    walls: list[float] = []
    extras: list[int] = []
    counts: dict[str, int] = {}
    for _ in range(runs):
        _reset_peak()
        before = _status("VmRSS")
        start = time.perf_counter()
        alerts = BatchEngine(firm).scan(table)
        walls.append(time.perf_counter() - start)
        extras.append(_status("VmHWM") - before)
        counts = {}
        for alert in alerts:
            counts[alert.rule] = counts.get(alert.rule, 0) + 1
        del alerts
    front = []
    for _ in range(runs):
        start = time.perf_counter()
        BatchEngine(firm, rules=("front_running",)).scan(table)
        front.append(time.perf_counter() - start)
    rows = table.num_rows
    del table
    for _ in range(runs - 1):  # after the scans, so that a freed Arrow pool cannot hide scan memory
        start = time.perf_counter()
        load_coded(day)
        loads.append(time.perf_counter() - start)
    result = {"rows": rows, "wall": walls, "extra": extras, "alerts": counts, "front": front}
    return {**result, "load": loads}


def child_stream(events: int) -> dict[str, Any]:
    import datetime as dt

    from orderguard.config import load_config
    from orderguard.ingest import EventBatch
    from orderguard.sim import generate_day, scaled_size, synthetic_firm
    from orderguard.surveillance.batch import BatchEngine
    from orderguard.surveillance.stream import StreamEngine

    size = scaled_size(events)
    firm = synthetic_firm(load_config(FIRM), seed=1, traders=size["traders"], clients=size["clients"])
    day = generate_day(events=events, seed=1, date=dt.date(2026, 11, 20), firm=firm)
    stream = list(EventBatch(day.table).sorted().iter_events())
    # The harness holds every event in memory, which a live engine does not: freeze them out of the
    # collector's reach so that its passes measure the engine's own garbage, not the input list.
    gc.collect()
    gc.freeze()
    engine = StreamEngine(firm)
    observe = engine.observe
    streamed = []
    start = time.perf_counter()
    for event in stream:
        streamed += observe(event)
    throughput_wall = time.perf_counter() - start
    engine = StreamEngine(firm)
    observe = engine.observe
    clock = time.perf_counter_ns
    latencies = []
    for event in stream:
        began = clock()
        observe(event)
        latencies.append(clock() - began)
    overhead = []
    for _ in range(100_000):
        began = clock()
        overhead.append(clock() - began)
    latencies.sort()
    batched = BatchEngine(firm).scan(day.table)
    same = {json.dumps(a.to_record()) for a in streamed} == {json.dumps(a.to_record()) for a in batched}

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000

    return {
        "events": len(stream),
        "per_second": len(stream) / throughput_wall,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "p999_us": pct(0.999),
        "max_us": latencies[-1] / 1000,
        "timer_us": statistics.median(overhead) / 1000,
        "alerts": len(streamed),
        "identical": same,
        **stream_breakdown(firm, stream),
    }


def stream_breakdown(firm: Any, stream: list[Any]) -> dict[str, Any]:
    """The floor and the parts of the stream's cost, each measured in this same child.

    * floor: the same loop over the same events, dispatched by kind to handlers that do nothing;
    * per rule: CPU ns per event of an engine with that one rule, minus an engine with none;
    * lines: events read as JSON Lines (benchmarks/stream_lines.py says how).
    """
    from orderguard.surveillance.registry import RULES
    from orderguard.surveillance.stream import StreamEngine

    def idle(_event: Any) -> tuple[Any, ...]:
        return ()

    handlers = dict.fromkeys({event.kind for event in stream}, (idle,))
    kept: list[Any] = []
    start = time.perf_counter()
    for event in stream:
        for handler in handlers[event.kind]:
            found = handler(event)
            if found:
                kept += found
    floor = len(stream) / (time.perf_counter() - start)
    keyed = keyed_floor(StreamEngine(firm).detectors, stream)

    def cpu_ns(rules: tuple[str, ...] | None) -> float:
        observe, began = StreamEngine(firm, rules=rules).observe, time.process_time()
        for event in stream:
            observe(event)
        return (time.process_time() - began) / len(stream) * 1e9

    bare = cpu_ns(())
    per_rule = {rule: cpu_ns((rule,)) - bare for rule in RULES}
    every = cpu_ns(None)
    sample = stream[: min(len(stream), 100_000)]
    lines = [json.dumps(event.to_record()) for event in sample]
    return {
        "floor_per_second": floor,
        **keyed,
        "engine_cpu_ns": bare,
        "rule_cpu_ns": per_rule,
        "every_cpu_ns": every,
        **line_costs(lambda: StreamEngine(firm), lines, rate=LINE_RATE),
    }


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    """A child part's JSON result and its peak RSS (MiB)."""
    child = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    out = child.stdout.read() if child.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child {args} failed")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="surveillance benchmark")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200,000-event day, 50,000 streamed")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--stream-events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full-runs", type=int, default=1, help="runs of DuckDB's whole front_running")
    parser.add_argument("--parts", default="batch,duckdb,floor,stream", help="comma-separated parts to run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        part, *rest = args.child
        if part == "batch":
            result = child_batch(Path(rest[0]), int(rest[1]))
        elif part == "duckdb":
            result = child_duckdb(Path(rest[0]), int(rest[1]), int(rest[2]))
        elif part == "floor":
            result = child_floor(Path(rest[0]), int(rest[1]))
        else:
            result = child_stream(int(rest[0]))
        print(json.dumps(result))
        return
    events = 200_000 if args.quick else args.events
    streamed = 50_000 if args.quick else args.stream_events
    day = ensure_day(events)
    parts = set(args.parts.split(","))
    print(f"machine: {machine()}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print("| measure | value | target |")
    print("|---|---:|---:|")
    wall = None
    if "batch" in parts:
        batch, batch_rss = run_child("batch", str(day), str(args.runs))
        wall = statistics.median(batch["wall"])
        row(
            f"batch, every detector, {batch['rows']:,} events: wall (median of {args.runs})",
            f"{wall:.2f} s",
            "<= 2 s",
        )
        row(
            "batch: first scan in the process / slowest / fastest",
            " / ".join(f"{w:.2f}" for w in (batch["wall"][0], max(batch["wall"]), min(batch["wall"]))) + " s",
        )
        row(
            "batch: peak extra memory during the scan",
            f"{max(batch['extra']) / 2**20:,.0f} MiB",
            "<= 1,536 MiB",
        )
        row("batch child process peak RSS (incl. the loaded day)", f"{batch_rss:,.0f} MiB")
        load_wall = statistics.median(batch["load"])
        row("reading the day from Parquet with dictionary codes (not in the scan time)", f"{load_wall:.2f} s")
        row("read + scan", f"{load_wall + wall:.2f} s")
        row(
            "front_running alone (both modes, incl. order lifecycle)",
            f"{statistics.median(batch['front']):.2f} s",
        )
    if "duckdb" in parts:
        duck, _ = run_child("duckdb", str(day), str(args.runs), str(args.full_runs))
        join, full = statistics.median(duck["before"]), statistics.median(duck["full"])
        row(
            f"DuckDB range join, front_running 'before' mode only ({duck['before_matches']} pairs), "
            f"native table (median of {args.runs})",
            f"{join:.2f} s",
        )
        arrow_join = statistics.median(duck["before_arrow"])
        row("the same join over the registered Arrow table", f"{arrow_join:.2f} s")
        row(
            f"DuckDB, whole front_running in SQL: lifecycle + both modes ({duck['full_matches']} pairs; "
            f"median of {args.full_runs})",
            f"{full:.2f} s",
        )
        if wall is not None:
            row("DuckDB 'before' join / our whole batch (all 8 detectors)", f"{join / wall:.2f}x", ">= 5x")
            row("DuckDB whole front_running / our whole batch", f"{full / wall:.2f}x")
            front_wall = statistics.median(batch["front"])
            row("DuckDB whole front_running / our front_running alone", f"{full / front_wall:.2f}x")
    if "floor" in parts:
        floor, _ = run_child("floor", str(day), str(max(args.runs, 3)))
        for step, seconds in floor.items():
            row(f"floor, one thread: {step} (benchmarks/surveillance_floor.py)", f"{seconds:.3f} s")
        row("floor: sum of those steps", f"{sum(floor.values()):.3f} s")
    if "stream" in parts:
        stream_rows(*run_child("stream", str(streamed)))
        watch_rows(streamed)
    if "batch" in parts:
        print(f"\nbatch alerts per rule: {json.dumps(batch['alerts'], sort_keys=True)}")


def stream_rows(stream: dict[str, Any], stream_rss: float) -> None:
    """The stream part's table rows."""
    rate, p50, p99, p999 = stream["per_second"], stream["p50_us"], stream["p99_us"], stream["p999_us"]
    row(
        f"stream, every detector, {stream['events']:,} events: events/s on one core",
        f"{rate:,.0f}",
        ">= 500,000",
    )
    row(
        "stream latency p50 / p99 / p99.9 per event",
        f"{p50:.1f} / {p99:.1f} / {p999:.1f} us",
        "p99 <= 50 us",
    )
    row("timer overhead per measurement (included above)", f"{stream['timer_us']:.2f} us")
    row(f"stream child peak RSS (incl. {stream['events']:,} Event objects)", f"{stream_rss:,.0f} MiB")
    row(
        "floor: the same loop dispatching each event to a do-nothing handler",
        f"{stream['floor_per_second']:,.0f}/s",
    )
    row(
        f"keyed floor: the detectors' fan-out ({stream['handlers_per_event']:.2f} handlers an event), "
        "each handler one dict read + one write (benchmarks/stream_floor.py)",
        f"{stream['keyed_floor_per_second']:,.0f}/s",
    )
    row(
        f"CPU per event: all {len(stream['rule_cpu_ns'])} detectors (engine alone)",
        f"{stream['every_cpu_ns']:,.0f} ns ({stream['engine_cpu_ns']:,.0f} ns)",
    )
    for rule, cost in sorted(stream["rule_cpu_ns"].items(), key=lambda kv: -kv[1]):
        row(f"CPU per event (of every kind) added by {rule} alone", f"{cost:,.0f} ns")
    how = "64 KiB chunks, live.feed_engine" if stream["chunked"] else "this tree's watch loop: line by line"
    row(
        f"JSON Lines in, backlog ({stream['lines']:,} lines; {how}): lines/s",
        f"{stream['backlog_per_second']:,.0f}",
    )
    row(
        "JSON Lines in, one line at a time (parse_line + observe): lines/s",
        f"{stream['per_line_per_second']:,.0f}",
    )
    row(
        f"JSON Lines in at {stream['rate']:,.0f} lines/s: latency p50 / p99 / p99.9 from arrival",
        f"{stream['paced_p50_us']:.1f} / {stream['paced_p99_us']:.1f} / {stream['paced_p999_us']:.1f} us",
        "p99 <= 50 us",
    )
    row("load average at the end of the stream part", " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    row(
        "stream alerts identical to batch on that day",
        f"{stream['identical']} ({stream['alerts']})",
        "True",
    )


def watch_rows(events: int) -> None:
    """`orderguard watch` as a process over the first 200,000 lines of the day as JSON Lines."""
    day = DATA / f"day-{events}-seed1"  # bench_ingest.py's cache of the same day
    if not (day / "events.jsonl").is_file():
        subprocess.run(
            [
                *SIM,
                "--events",
                str(events),
                "--seed",
                "1",
                "--config",
                str(FIRM),
                "--format",
                "jsonl",
                "--out",
                str(day),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    lines = min(events, 200_000)
    with tempfile.TemporaryDirectory() as scratch:
        watch = cli_watch(day / "events.jsonl", day / "firm.toml", lines, Path(scratch))
    row(
        f"`orderguard watch < {lines:,} lines` (a process): lines per CPU second / per wall second, "
        f"beyond start-up ({watch['cli_start_cpu_s']:.2f} CPU s)",
        f"{watch['cli_per_cpu_second']:,.0f} / {watch['cli_per_wall_second']:,.0f}",
    )


def row(measure: str, value: str, target: str = "") -> None:
    print(f"| {measure} | {value} | {target} |")


if __name__ == "__main__":
    main()
