"""Ingestion benchmark: sim → Parquet, read_events, `orderguard events validate`, JSONL and CSV intake.

Run: .venv/bin/python benchmarks/bench_ingest.py [--quick]
Each step runs in its own process so that its peak RSS (from wait4) is its own. Generated days are
cached under benchmarks/data/ (gitignored); the sim step is always timed afresh into that cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
BIN = Path(sys.executable).parent
FIRM = ROOT / "examples" / "firm.toml"

READ_SNIPPET = """
import sys, time
from orderguard.ingest import read_events
start = time.perf_counter()
batch = read_events([sys.argv[1]])
print(time.perf_counter() - start, len(batch))
"""
# The floor for read_events on Parquet: PyArrow reading the same file, no checks.
BASELINE_SNIPPET = """
import sys, time
import pyarrow.parquet as pq
start = time.perf_counter()
table = pq.read_table(sys.argv[1])
print(time.perf_counter() - start, table.num_rows)
"""


def run(command: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in MiB, stdout and CPU seconds (user + system) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    out = child.stdout.read() if child.stdout else ""
    err = child.stderr.read() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out}\n{err}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def sim(events: int, fmt: str) -> tuple[Path, float, float, float]:
    out = DATA / f"day-{events}-seed1"
    command = [str(BIN / "orderguard"), "sim", "--events", str(events), "--seed", "1", "--config", str(FIRM)]
    wall, rss, _, cpu = run([*command, "--out", str(out), "--format", fmt])
    return out / f"events.{fmt}", wall, rss, cpu


def timed_read(path: Path, runs: int, snippet: str = READ_SNIPPET) -> tuple[float, float, float]:
    """Median in-process seconds (interpreter start-up excluded), peak RSS, median child CPU seconds."""
    seconds, peaks, cpus = [], [], []
    for _ in range(runs):
        _, rss, out, cpu = run([sys.executable, "-c", snippet, str(path)])
        seconds.append(float(out.split()[0]))
        peaks.append(rss)
        cpus.append(cpu)
    return statistics.median(seconds), max(peaks), statistics.median(cpus)


def timed_validate(path: Path, runs: int) -> tuple[float, float, float]:
    """Median wall seconds of the CLI end to end (start-up, read, checks, report), peak RSS, median CPU."""
    walls, peaks, cpus = [], [], []
    for _ in range(runs):
        wall, rss, _, cpu = run([str(BIN / "orderguard"), "events", "validate", str(path)])
        walls.append(wall)
        peaks.append(rss)
        cpus.append(cpu)
    return statistics.median(walls), max(peaks), statistics.median(cpus)


def _read(path: Path, runs: int, snippet: str) -> tuple[float, int, float, float]:
    seconds, rss, cpu = timed_read(path, runs, snippet)
    return seconds, runs, rss, cpu


def _validate(path: Path, runs: int) -> tuple[float, int, float, float]:
    seconds, rss, cpu = timed_validate(path, runs)
    return seconds, runs, rss, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each (smoke test)")
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the Parquet day")
    parser.add_argument("--text-events", type=int, default=1_000_000, help="events in the JSONL/CSV days")
    args = parser.parse_args()
    big, text, runs = (200_000, 50_000, 1) if args.quick else (args.events, args.text_events, 3)
    DATA.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, int, float, int, float, float]] = []
    load_before = os.getloadavg()[0]

    parquet, wall, rss, cpu = sim(big, "parquet")
    rows.append(("sim → Parquet (`orderguard sim`, wall)", big, wall, 1, rss, cpu))
    baseline = _read(parquet, runs, BASELINE_SNIPPET)
    rows.append(("baseline: pyarrow.parquet.read_table, same file", big, *baseline))
    rows.append(("read_events, Parquet", big, *_read(parquet, runs, READ_SNIPPET)))
    rows.append(("`orderguard events validate`, Parquet (wall)", big, *_validate(parquet, runs)))
    for fmt in ("jsonl", "csv"):
        path, wall, rss, cpu = sim(text, fmt)
        rows.append((f"sim → {fmt.upper()} (wall)", text, wall, 1, rss, cpu))
        rows.append((f"read_events, {fmt.upper()}", text, *_read(path, runs, READ_SNIPPET)))
    jsonl = DATA / f"day-{text}-seed1" / "events.jsonl"
    rows.append(("`orderguard events validate`, JSONL (wall)", text, *_validate(jsonl, runs)))

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model}; Python {platform.python_version()}; "
        f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("command: .venv/bin/python benchmarks/bench_ingest.py" + (" --quick" if args.quick else ""))
    print(f"1-minute load average: {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print()
    print("| step | events | median s | runs | events/s | peak RSS MiB | process CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, events, seconds, n, rss, cpu in rows:
        rate = events / seconds
        print(f"| {name} | {events:,} | {seconds:.2f} | {n} | {rate:,.0f} | {rss:,.0f} | {cpu:.1f} |")
    print(json.dumps({"rows": rows}), file=sys.stderr)


if __name__ == "__main__":
    main()
