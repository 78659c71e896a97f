"""Write small event files in each v1 format for the ingest tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("jsonl", "csv", "parquet")


def order(event_id: str = "e1", **fields: object) -> dict[str, object]:
    """A valid client order record; keyword arguments override or add fields (None removes one)."""
    record: dict[str, object] = {
        "event_id": event_id,
        "ts": "2026-11-20T14:30:00.123456789Z",
        "kind": "client_order",
        "actor": "alice",
        "account": "C-PENSION-1",
        "symbol": "AAPL",
        "side": "buy",
        "qty": 500.0,
        "price": 190.25,
        "order_id": f"O-{event_id}",
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def write(tmp_path: Path, records: Sequence[Mapping[str, object]], fmt: str, name: str = "events") -> Path:
    """The records as a file of format ``fmt`` (one record per line/row, in order)."""
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif fmt == "csv":
        names = list(dict.fromkeys(k for r in records for k in r))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            writer.writeheader()
            writer.writerows(records)
    else:
        names = list(dict.fromkeys(k for r in records for k in r))
        columns = {}
        for column in names:
            values = [r.get(column) for r in records]
            if len({type(v) for v in values if v is not None}) > 1:
                values = [None if v is None else str(v) for v in values]  # a mixed column is stored as text
            columns[column] = pa.array(values)
        pq.write_table(pa.table(columns), path)
    return path


def location(fmt: str, index: int) -> str:
    """Where record ``index`` (0-based) of a file written by ``write`` is reported."""
    if fmt == "jsonl":
        return f"line {index + 1}"
    if fmt == "csv":
        return f"line {index + 2}"
    return f"row {index + 1}"
