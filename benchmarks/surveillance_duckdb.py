"""The DuckDB baselines of bench_surveillance: front running written in SQL as an analyst would.

Both sides start from the day already in memory and neither timing includes reading the
Parquet file: ours scans the table ``load.read_day`` returns; DuckDB queries its own native
table, copied once from the same file's columns (its strongest case: scanning a registered
Arrow table re-converts the strings on every query, measured here too). DuckDB runs with
``threads = 2``, the machine's cores, like our two-thread pool.

* ``BEFORE_JOIN`` is the issue's baseline, "the front-running join alone": the "before" mode
  of front_running (personal trade P at most lead_seconds before a client order C more than
  size_ratio x larger, same instrument family and side) as one range join. It is the same join
  as ours (family from the firm's related instruments, P strictly before C in (ts, seq) order,
  the same null filters), but it only counts pairs: no order lifecycle, no "working" mode and
  no alert text, so it does less than our front_running alone.
* ``FRONT_RUNNING`` is the whole front_running rule in SQL: the order lifecycle (owner of each
  execution and cancel, completion by cumulative quantity, amends) and both modes. Ownership
  is an equi-join on order id bounded by the next client order with that id; DuckDB's ASOF JOIN
  on the 3M distinct ids measured slower.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("ts", "kind", "symbol", "side", "qty", "order_id")
NEVER = 9_223_372_036_854_775_807  # an order that never stops working ends "after everything"

_EVENTS = """
e AS (SELECT x.seq, x.ts, x.kind, x.side, x.qty, x.order_id, coalesce(f.family, x.symbol) AS family
      FROM {table} x LEFT JOIN families f USING (symbol)
      WHERE x.kind IN ('personal_trade', 'client_order', 'execution', 'order_cancel')),
p AS (SELECT seq, ts, family, side, qty FROM e
      WHERE kind = 'personal_trade' AND family IS NOT NULL AND side IS NOT NULL AND qty IS NOT NULL),
c AS (SELECT seq, ts, family, side, qty, order_id FROM e
      WHERE kind = 'client_order' AND order_id IS NOT NULL AND qty IS NOT NULL)"""

_BEFORE = """
SELECT count(*) FROM p JOIN c
  ON p.family = c.family AND p.side = c.side
 AND c.seq > p.seq AND c.ts <= p.ts + {lead_ns} AND c.qty > {ratio} * p.qty"""

BEFORE_JOIN = "WITH" + _EVENTS + _BEFORE

FRONT_RUNNING = (
    "WITH"
    + _EVENTS
    + """,
amends AS (SELECT seq, lead(seq) OVER (PARTITION BY order_id ORDER BY seq) AS amended_at FROM c),
x AS (SELECT seq, kind, qty, order_id FROM e
      WHERE kind IN ('execution', 'order_cancel') AND order_id IS NOT NULL),
owned AS (SELECT x.seq, x.kind, x.qty, c.seq AS c_seq, c.qty AS c_qty
          FROM x JOIN c ON x.order_id = c.order_id AND x.seq > c.seq
          JOIN amends a ON a.seq = c.seq AND x.seq < coalesce(a.amended_at, {never})),
fills AS (SELECT seq, c_seq, c_qty, sum(qty) OVER (PARTITION BY c_seq ORDER BY seq) AS executed
          FROM owned WHERE kind = 'execution' AND qty IS NOT NULL),
stops AS (SELECT c_seq, min(seq) AS stop FROM (
            SELECT c_seq, seq FROM owned WHERE kind = 'order_cancel'
            UNION ALL SELECT c_seq, seq FROM fills WHERE executed >= c_qty) GROUP BY c_seq),
working AS (SELECT c.*, least(coalesce(s.stop, {never}), coalesce(a.amended_at, {never})) AS stop
            FROM c JOIN amends a ON a.seq = c.seq LEFT JOIN stops s ON s.c_seq = c.seq)
SELECT ("""
    + _BEFORE
    + """) AS before, (
SELECT count(*) FROM p JOIN working w
  ON p.family = w.family AND p.side = w.side
 AND p.seq > w.seq AND p.seq < w.stop AND w.qty > {ratio} * p.qty) AS while_working"""
)


def connect(events: Path, families: dict[str, str]) -> tuple[Any, float]:
    """A two-thread DuckDB holding the day as ``events`` (native) and ``arrow_events``; copy time."""
    import duckdb

    table = pq.read_table(events, columns=list(COLUMNS))
    table = table.add_column(0, "seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    ts_at = table.schema.get_field_index("ts")
    table = table.set_column(ts_at, "ts", table.column("ts").cast(pa.int64()))  # epoch ns
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("arrow_events", table)
    start = time.perf_counter()
    con.execute("CREATE TABLE events AS SELECT * FROM arrow_events")
    copied = time.perf_counter() - start
    con.execute("CREATE TABLE families (symbol VARCHAR PRIMARY KEY, family VARCHAR)")
    con.executemany("INSERT INTO families VALUES (?, ?)", sorted(families.items()))
    return con, copied


def timed(con: Any, sql: str, runs: int) -> tuple[list[float], list[int]]:
    """Wall times of ``runs`` executions and the (last) result row."""
    walls: list[float] = []
    found: list[int] = []
    for _ in range(runs):
        start = time.perf_counter()
        row = con.execute(sql).fetchone()
        walls.append(time.perf_counter() - start)
        found = [int(v) for v in row] if row else []
    return walls, found


def child_duckdb(day: Path, runs: int, full_runs: int) -> dict[str, Any]:
    """The baselines' timings over the cached day (firm.toml beside events.parquet)."""
    from orderguard.config import load_config
    from orderguard.surveillance.context import SurveillanceContext, seconds_to_ns

    ctx = SurveillanceContext.from_config(load_config(day / "firm.toml"))
    settings = ctx.detectors.front_running
    knobs = {"lead_ns": seconds_to_ns(settings.lead_seconds), "ratio": settings.size_ratio, "never": NEVER}
    con, copied = connect(day / "events.parquet", ctx.families)
    before, before_found = timed(con, BEFORE_JOIN.format(table="events", **knobs), runs)
    arrow, _ = timed(con, BEFORE_JOIN.format(table="arrow_events", **knobs), runs)
    full, full_found = timed(con, FRONT_RUNNING.format(table="events", **knobs), full_runs)
    return {
        "copy": copied,
        "before": before,
        "before_matches": before_found[0] if before_found else 0,
        "before_arrow": arrow,
        "full": full,
        "full_matches": full_found,
    }


def median(values: list[float]) -> float:
    return statistics.median(values)
