"""Audit log: durable appends/s and latency (1, 8, 64 writer threads), full verify, append-to-checkpoint.

Run: .venv/bin/python benchmarks/bench_audit.py [--seconds 3] [--verify-entries 200000] [--quick]

Also: 64 asyncio tasks awaiting ``append_async`` in one event loop (the API's way of writing), on
asyncio's own loop and on uvloop (what the API serves on), and the time to reopen a log of
``--reopen-entries`` entries (the tree is rebuilt from the stored leaf hashes). Each append row also
gives the process CPU time per entry and the part of it spent in the sequencer thread.

``--focus`` runs only the 64-writer rows on disk (threads, asyncio, uvloop, grouped), for before/after
comparisons: run it alternately with ``PYTHONPATH=/tmp/base/src`` (a previous commit unpacked there
with ``git archive``) and without; the first line names the code under test.

Each append configuration runs on a fresh database for ``--seconds`` of wall time
with N threads, each appending one entry at a time and waiting for durability;
the log signs checkpoints in the background as in production. A second row per
backend uses ``append_many`` (64 threads x 64 entries per call) to show what the
storage sustains when callers hand over entries in groups. Same-run baselines: a
4 KiB write + fsync, and raw SQLite inserts of the same two rows per entry
(``executemany`` and 256-row statements, WAL, synchronous=FULL, 2,000 entries per
commit) with no log code around them. Verification re-hashes a log of
``--verify-entries`` entries with one process and with the default worker count;
its baseline is the bare SHA-256 work over the same stored bytes (leaf,
salt + payload, one tree node per entry) in C-level ``map`` loops, one core, no
database. PostgreSQL runs on a throwaway local cluster (fsync on) started from
the machine's binaries.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pg import start_cluster

from orderguard.audit.keys import KeySet, NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.audit.merkle import parent_level
from orderguard.audit.scan import fetch_columns, scan_columns
from orderguard.audit.verify import verify_log
from orderguard.domain.audit import AuditAction, AuditEntry
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade


def entry(number: int) -> AuditEntry:
    return AuditEntry(
        kind="order",
        action=AuditAction.CREATED,
        object_id=f"ord-{number}",
        actor="trader-7",
        ts=time.time_ns(),
        after={"symbol": "ACME", "side": "buy", "qty": 100, "price": 12.5, "venue": "XNAS"},
        ip="10.0.0.7",
        session_id="s-1",
        decision="allow",
        reason_code="ALLOWED",
        policy_ids=("venue-allowlist",),
    )


_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(native_id: int | None) -> float:
    """CPU seconds (user + system) used so far by the thread ``native_id`` of this process."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuSplit:
    """Process and sequencer-thread CPU time across a run, in µs per entry."""

    def __init__(self, log: AuditLog) -> None:
        self._sequencer = log._sequencer.native_id
        self._process, self._thread = time.process_time(), thread_cpu(self._sequencer)

    def per_entry(self, entries: int) -> tuple[float, float]:
        """(process, sequencer) CPU µs per entry since this object was made."""
        process = time.process_time() - self._process
        sequencer = thread_cpu(self._sequencer) - self._thread
        return process * 1e6 / max(entries, 1), sequencer * 1e6 / max(entries, 1)


Row = tuple[float, float, float, float, float, float]  # appends/s, p50, p99, per commit, CPU, sequencer CPU


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_appends(url: str, threads: int, seconds: float, group: int = 1) -> Row:
    """(appends/s, p50 ms, p99 ms, entries per commit, CPU µs per entry: process, sequencer thread):
    ``threads`` writers, ``group`` entries per call."""
    upgrade(url)
    log = AuditLog(url, signer=NoteSigner.generate("bench"))
    latencies: list[list[float]] = [[] for _ in range(threads)]
    counts = [0] * threads
    stop = time.perf_counter() + seconds
    start_gate = threading.Barrier(threads + 1)

    def writer(slot: int) -> None:
        mine, clock, number = latencies[slot], time.perf_counter, slot * 10_000_000
        start_gate.wait()
        while clock() < stop:
            t0 = clock()
            if group == 1:
                log.append(entry(number))
            else:
                log.append_many([entry(number + k) for k in range(group)])
            mine.append(clock() - t0)
            number += group
        counts[slot] = len(mine) * group

    workers = [threading.Thread(target=writer, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    cpu = CpuSplit(log)
    began = time.perf_counter()
    start_gate.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    process_cpu, sequencer_cpu = cpu.per_entry(sum(counts))
    batches = log.batches_written
    log.close()
    flat = [value for chunk in latencies for value in chunk]
    per_commit = sum(counts) / max(batches, 1)
    p50, p99 = percentile(flat, 0.5) * 1e3, percentile(flat, 0.99) * 1e3
    return sum(counts) / elapsed, p50, p99, per_commit, process_cpu, sequencer_cpu


def run_async_appends(url: str, tasks: int, seconds: float, use_uvloop: bool = False) -> Row:
    """(appends/s, p50 ms, p99 ms, entries per commit, CPU µs per entry: process, sequencer thread):
    ``tasks`` coroutines in one event loop, each awaiting ``append_async`` of one entry at a time (how
    the HTTP API writes to the log; it serves on uvloop, ``use_uvloop``)."""
    upgrade(url)
    log = AuditLog(url, signer=NoteSigner.generate("bench"))
    latencies: list[float] = []

    async def writer(slot: int, stop: float) -> None:
        clock, number = time.perf_counter, slot * 10_000_000
        while clock() < stop:
            t0 = clock()
            await log.append_async(entry(number))
            latencies.append(clock() - t0)
            number += 1

    async def main() -> float:
        began = time.perf_counter()
        await asyncio.gather(*(writer(slot, began + seconds) for slot in range(tasks)))
        return time.perf_counter() - began

    cpu = CpuSplit(log)
    if use_uvloop:
        import uvloop

        elapsed = uvloop.run(main())
    else:
        elapsed = asyncio.run(main())
    process_cpu, sequencer_cpu = cpu.per_entry(len(latencies))
    batches = log.batches_written
    log.close()
    per_commit = len(latencies) / max(batches, 1)
    rate = len(latencies) / elapsed
    p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
    return rate, p50, p99, per_commit, process_cpu, sequencer_cpu


def run_reopen(url: str, rounds: int) -> float:
    """Median seconds to open an existing log: the tree is rebuilt from every stored leaf hash."""
    engine = make_engine(url)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        log = AuditLog(engine)
        times.append(time.perf_counter() - began)
        log.close()
    engine.dispose()
    return statistics.median(times)


def fsync_baseline(directory: str, samples: int = 200) -> float:
    """Median milliseconds to write 4 KiB and fsync it in ``directory``: the floor under every commit."""
    path = Path(directory) / "fsync-probe"
    timings = []
    with path.open("wb") as handle:
        for _ in range(samples):
            began = time.perf_counter()
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
            timings.append(time.perf_counter() - began)
    path.unlink()
    return statistics.median(timings) * 1e3


def fill(url: str, count: int, signer: NoteSigner) -> None:
    upgrade(url)
    with AuditLog(url, signer=signer) as log:
        for start in range(0, count, 5000):
            log.append_many([entry(n) for n in range(start, min(count, start + 5000))])


def run_verify(url: str, signer: NoteSigner, rounds: int, workers: int) -> tuple[float, float]:
    """(median entries/s, median seconds) of full verification of the log at ``url``."""
    engine = make_engine(url)
    rates, times = [], []
    for _ in range(rounds):
        report = verify_log(engine, KeySet([signer.verifier]), workers=workers)
        assert report.ok, report.findings
        rates.append(report.size / report.seconds)
        times.append(report.seconds)
    engine.dispose()
    return statistics.median(rates), statistics.median(times)


def hashing_baseline(path: str, count: int, rounds: int) -> float:
    """Median entries/s of just the SHA-256 work verification does, over the stored bytes of a filled log."""
    conn = sqlite3.connect(path)
    _, _, leaves, salts, payloads = fetch_columns(conn, False, 0, count)
    conn.close()
    digest, sha256 = type(hashlib.sha256()).digest, hashlib.sha256
    rates = []
    for _ in range(max(rounds, 3)):
        began = time.perf_counter()
        level = b"".join(map(digest, map(sha256, map(b"\x00".__add__, leaves))))
        b"".join(map(digest, map(sha256, map(bytes.__add__, salts, payloads))))  # type: ignore[arg-type]
        while len(level) > 32:
            level = parent_level(level)
        rates.append(len(leaves) / (time.perf_counter() - began))
    return statistics.median(rates)


def verify_baselines(path: str, count: int, rounds: int) -> tuple[float, float]:
    """(row-by-row scan, hashlib floor) median entries/s on one core over the SQLite log at ``path``.

    Row-by-row is the previous inner loop of verification (one driver row per entry, then ``map``
    over hashlib), still the fallback for a range that fails a bulk check. The floor is the SHA-256
    work alone, one hashlib call per leaf, per payload commitment and per tree node, over messages
    cut beforehand: what no Python verifier using hashlib can go below.
    """
    conn = sqlite3.connect(path)
    row_rates = []
    for _ in range(max(rounds, 3)):
        began = time.perf_counter()
        for start in range(0, count, 1 << 15):
            scan_columns(start, fetch_columns(conn, False, start, start + (1 << 15)))
        row_rates.append(count / (time.perf_counter() - began))
    _, _, leaves, salts, payloads = fetch_columns(conn, False, 0, count)
    conn.close()
    digest, sha256 = type(hashlib.sha256()).digest, hashlib.sha256
    leaf_messages = [b"\x00" + leaf for leaf in leaves]
    commit_messages = [salt + payload for salt, payload in zip(salts, payloads, strict=True)]  # type: ignore[operator]
    node_messages = [b"\x01" + os.urandom(64) for _ in range(count - 1)]
    floor_rates = []
    for _ in range(max(rounds, 3)):
        began = time.perf_counter()
        for messages in (leaf_messages, commit_messages, node_messages):
            b"".join(map(digest, map(sha256, messages)))
        floor_rates.append(count / (time.perf_counter() - began))
    return statistics.median(row_rates), statistics.median(floor_rates)


def sqlite_insert_baseline(directory: str, count: int) -> tuple[float, float]:
    """(executemany, 256-row statements) entries/s inserting the log's two rows per entry, no log code."""
    rows = [(n, os.urandom(32), os.urandom(280)) for n in range(count)]
    payload_rows = [(n, os.urandom(16), os.urandom(127)) for n in range(count)]
    rates = []
    for style in ("executemany", "multirow"):
        conn = sqlite3.connect(f"{directory}/raw-{style}.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        for table in ("e", "p"):
            conn.execute(f"CREATE TABLE {table} (idx INTEGER PRIMARY KEY, a BLOB NOT NULL, b BLOB NOT NULL)")
        many = ",".join(["(?,?,?)"] * 250)
        began = time.perf_counter()
        for start in range(0, count, 2000):
            conn.execute("BEGIN")
            for table, source in (("e", rows), ("p", payload_rows)):
                chunk = source[start : start + 2000]
                if style == "executemany":
                    conn.executemany(f"INSERT INTO {table} VALUES (?,?,?)", chunk)
                else:
                    for offset in range(0, len(chunk), 250):
                        flat = [value for row in chunk[offset : offset + 250] for value in row]
                        sql = many if len(flat) == 750 else ",".join(["(?,?,?)"] * (len(flat) // 3))
                        conn.execute(f"INSERT INTO {table} VALUES {sql}", flat)
            conn.execute("COMMIT")
        rates.append(count / (time.perf_counter() - began))
        conn.close()
    return rates[0], rates[1]


def run_checkpoint_latency(url: str, samples: int) -> tuple[float, float, float]:
    """(p50, p99, max) ms from an acknowledged append until a signed checkpoint covering it is stored."""
    upgrade(url)
    delays: list[float] = []
    with AuditLog(url, signer=NoteSigner.generate("bench")) as log:
        for number in range(samples):
            time.sleep(0.05 + (number % 7) * 0.03)  # appends at irregular moments
            index = log.append(entry(number))
            acked = time.perf_counter()
            while log.checkpointed_size <= index:
                time.sleep(0.0005)
            delays.append((log.checkpointed_at - acked) * 1e3)
    return percentile(delays, 0.5), percentile(delays, 0.99), max(delays)


@contextlib.contextmanager
def backends(with_postgres: bool) -> Iterator[list[tuple[str, Callable[[], str]]]]:
    try:
        with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
            counter = iter(range(1000))

            def sqlite_url() -> str:
                return f"sqlite:///{tmp}/audit-{next(counter)}.db"

            stores: list[tuple[str, Callable[[], str]]] = [("SQLite", sqlite_url)]
            if Path("/dev/shm").is_dir():  # same code, sync made free: shows the CPU ceiling

                def tmpfs_url() -> str:
                    return f"sqlite:////dev/shm/og-bench-audit-{os.getpid()}-{next(counter)}.db"

                stores.append(("SQLite on tmpfs (no real sync)", tmpfs_url))
            if not with_postgres:
                yield stores
                return
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            with start_cluster(pg_dir) as cluster:
                yield [*stores, ("PostgreSQL", cluster.new_database)]
    finally:  # tmpfs files live outside the temporary directory: remove them however the run ends
        for leftover in Path("/dev/shm").glob(f"og-bench-audit-{os.getpid()}-*"):
            leftover.unlink(missing_ok=True)


def print_verify_baselines(path: str, count: int, rounds: int) -> None:
    """The same-run baselines of full verification, measured on the SQLite log at ``path``."""
    row_by_row, floor = verify_baselines(path, count, rounds)
    print(
        f"\nverify baselines, SQLite, one process, {count:,} entries: previous row-by-row scan "
        f"{row_by_row:,.0f}/s; hashlib floor (SHA-256 calls alone, no database) {floor:,.0f}/s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def verify_only(count: int, rounds: int, with_postgres: bool) -> None:
    """``--verify-only``: the full-verification table and its baselines, nothing else."""
    print("| backend | entries | workers | full verify entries/s | seconds | load average |")
    print("|---|---:|---:|---:|---:|---:|")
    sqlite_log = ""
    with backends(with_postgres) as stores:
        for name, make_url in stores:
            if "tmpfs" in name:
                continue
            url, signer = make_url(), NoteSigner.generate("bench")
            fill(url, count, signer)
            for workers in (1, 2):
                rate, seconds = run_verify(url, signer, rounds, workers)
                load = os.getloadavg()[0]
                print(f"| {name} | {count:,} | {workers} | {rate:,.0f} | {seconds:.2f} | {load:.2f} |")
            if name == "SQLite":
                sqlite_log = url.removeprefix("sqlite:///")
                print_verify_baselines(sqlite_log, count, rounds)
                print()


APPEND_HEADER = (
    "| backend | writers | entries per call | durable appends/s | p50 ms | p99 ms | entries per commit "
    "| CPU µs per entry | of it sequencer |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def cells(row: Row) -> str:
    rate, p50, p99, per_commit, process_cpu, sequencer_cpu = row
    cpu = f"{process_cpu:.1f} | {sequencer_cpu:.1f}"
    return f"{rate:,.0f} | {p50:.2f} | {p99:.2f} | {per_commit:,.0f} | {cpu}"


def print_append_table(
    stores: list[tuple[str, Callable[[], str]]], seconds: float, focus: bool = False
) -> None:
    """One row per writer setting and store; ``focus``: only 64 writers (threads, asyncio, grouped)."""
    settings = ((64, 1), (64, 64)) if focus else ((1, 1), (8, 1), (64, 1), (256, 1), (64, 64))
    for name, make_url in stores:
        if focus and "tmpfs" in name:
            continue
        for threads, group in settings:
            row = cells(run_appends(make_url(), threads, seconds, group))
            print(f"| {name} | {threads} | {group} | {row} |")
        if "tmpfs" not in name:
            row = cells(run_async_appends(make_url(), 64, seconds))
            print(f"| {name} | 64 asyncio tasks (append_async) | 1 | {row} |")
            row = cells(run_async_appends(make_url(), 64, seconds, use_uvloop=True))
            print(f"| {name} | 64 asyncio tasks on uvloop (append_async) | 1 | {row} |")


def print_reopen_table(stores: list[tuple[str, Callable[[], str]]], entries: int, rounds: int) -> None:
    print("| backend | entries | reopen (tree rebuilt from stored leaf hashes) s, median |")
    print("|---|---:|---:|")
    for name, make_url in stores:
        if "tmpfs" in name:
            continue
        url = make_url()
        fill(url, entries, NoteSigner.generate("bench"))
        print(f"| {name} | {entries:,} | {run_reopen(url, rounds):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall time per append configuration")
    parser.add_argument("--verify-entries", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="verification repetitions (median)")
    parser.add_argument("--reopen-entries", type=int, default=1_000_000, help="log size for reopen timing")
    parser.add_argument("--appends-only", action="store_true", help="only the append table and its baselines")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval for the run, seconds")
    parser.add_argument(
        "--focus",
        action="store_true",
        help="only the 64-writer append rows (threads, asyncio, uvloop, grouped) on disk: for A/B runs",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: short, small")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--verify-only", action="store_true", help="only the full-verification tables and their baselines"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.verify_entries, args.rounds, args.reopen_entries = 0.5, 20_000, 1, 20_000
    if args.verify_only:
        verify_only(args.verify_entries, args.rounds, not args.no_postgres)
        return
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    print(f"GIL switch interval {sys.getswitchinterval() * 1e3:g} ms; load average {os.getloadavg()}")
    print(f"code under test: {sys.modules[AuditLog.__module__].__file__}")
    if args.focus:
        with backends(not args.no_postgres) as stores:
            print(APPEND_HEADER)
            print_append_table(stores, args.seconds, focus=True)
            print(f"\nload average {os.getloadavg()}")
        return
    samples = 10 if args.quick else 40
    with tempfile.TemporaryDirectory(prefix="bench-audit-fsync-") as probe:
        print(f"fsync of 4 KiB in {probe}: median {fsync_baseline(probe):.2f} ms")
        many, multirow = sqlite_insert_baseline(probe, 20_000 if args.quick else 100_000)
        print(
            f"raw SQLite insert of 2 rows per entry (WAL, synchronous=FULL, 2,000 per commit): "
            f"executemany {many:,.0f}/s, 250-row statements {multirow:,.0f}/s\n"
        )
    print(APPEND_HEADER)
    with backends(not args.no_postgres) as stores:
        print_append_table(stores, args.seconds)
        if args.appends_only:
            return
        print()
        print(
            "| backend | entries | workers | full verify entries/s | seconds "
            "| SHA-256-only entries/s (1 core) |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        sqlite_log = ""
        for name, make_url in stores:
            if "tmpfs" in name:
                continue
            url, signer = make_url(), NoteSigner.generate("bench")
            fill(url, args.verify_entries, signer)
            for workers in (1, 2):
                rate, seconds = run_verify(url, signer, args.rounds, workers)
                baseline = "-"
                if name == "SQLite" and workers == 2:
                    path = url.removeprefix("sqlite:///")
                    baseline = f"{hashing_baseline(path, args.verify_entries, args.rounds):,.0f}"
                row = f"{args.verify_entries:,} | {workers} | {rate:,.0f} | {seconds:.2f} | {baseline}"
                print(f"| {name} | {row} |")
            if name == "SQLite":
                sqlite_log = url.removeprefix("sqlite:///")
        print_verify_baselines(sqlite_log, args.verify_entries, args.rounds)
        print()
        print("| backend | samples | append -> signed checkpoint p50 ms | p99 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        for name, make_url in stores:
            if "tmpfs" in name:
                continue
            p50, p99, worst = run_checkpoint_latency(make_url(), samples)
            print(f"| {name} | {samples} | {p50:.1f} | {p99:.1f} | {worst:.1f} |")
        print()
        print_reopen_table(stores, args.reopen_entries, max(args.rounds, 3))


if __name__ == "__main__":
    main()
