"""Where the floor of a NumPy batch scan lies on this machine: what any vectorised pass must pay.

Each step below is work that every detector pass over a day needs at least once, with
nothing of ours around it, timed on the table ``load.read_day`` returns (the scan's input):

* ``read columns``: one pass over every column the detectors read (a sum per column), so
  memory bandwidth alone;
* ``kind split``: the rows of each event kind (one stable radix argsort of int8 kind codes),
  which every detector starts from;
* ``order owner lookup``: for each execution, one gather of its order-id code and one of
  its client order (the least the order lifecycle must do);
* ``window search``: one ``searchsorted`` of the largest kind's ts minus a window into those ts
  (what one time-window detector over one kind costs at the least).

Their sum, on one thread, is a lower bound for any design that touches these columns with
NumPy; the report compares it with the DuckDB join and with our whole scan.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

READ: tuple[str, ...] = ("ts", "kind", "actor", "account", "symbol", "side", "qty", "price", "venue")


def _numpy(array: pa.Array) -> np.ndarray[Any, Any]:
    """The values buffer as a NumPy view (nulls hold whatever the buffer holds: sums only)."""
    if pa.types.is_dictionary(array.type):
        array = array.indices
    timestamp = pa.types.is_timestamp(array.type)
    dtype = np.dtype(np.int64) if timestamp else np.dtype(array.type.to_pandas_dtype())
    values = array.buffers()[1]
    return np.frombuffer(values, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def steps(table: pa.Table) -> dict[str, Callable[[], object]]:
    """The floor's steps over a contiguous read_day table (built once, run many times)."""
    columns = {name: _numpy(table.column(name).chunk(0)) for name in (*READ, "order_id", "records")}
    kind = columns["kind"].astype(np.int8)
    ts = columns["ts"]
    order = np.argsort(kind, kind="stable")
    executions = order[kind[order] == int(np.bincount(kind).argmax())]  # the largest kind stands in
    order_code = columns["order_id"]
    kind_ts = ts[executions]
    first_of_code = np.zeros(int(order_code.max()) + 1, dtype=np.int32)
    return {
        "read columns": lambda: [float(np.sum(c)) for c in columns.values()],
        "kind split": lambda: np.argsort(kind, kind="stable"),
        "order owner lookup": lambda: first_of_code[order_code[executions]],
        "window search": lambda: np.searchsorted(kind_ts, kind_ts - 3_600_000_000_000),
    }


def child_floor(day: Path, runs: int) -> dict[str, Any]:
    """Median wall of each floor step on one thread over the cached day."""
    from orderguard.surveillance.load import read_day

    table = read_day(day / "events.parquet")
    result: dict[str, Any] = {}
    for name, step in steps(table).items():
        walls = []
        for _ in range(runs):
            start = time.perf_counter()
            step()
            walls.append(time.perf_counter() - start)
        result[name] = statistics.median(walls)
    return result
