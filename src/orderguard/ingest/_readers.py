"""One file to a raw Arrow table by its suffix: PyArrow's columnar readers, exact fallbacks on error."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from orderguard.ingest._locate import LineLocator, Locator, row_locator
from orderguard.ingest._records import NotJson, records_to_table
from orderguard.ingest.errors import IngestError
from orderguard.ingest.schema import INPUT_TYPES, TEXT_INPUT_TYPES

SUFFIXES: Final = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
_BLOCK: Final = 16 << 20


def file_format(path: Path) -> str:
    """'jsonl', 'csv' or 'parquet' from the file name; an IngestError for anything else."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            str(path),
            None,
            None,
            "a file ending in .jsonl, .json, .csv or .parquet",
            found=repr(path.suffix or "no suffix"),
            fix="rename the file to the suffix of its format",
        )
    return fmt


def read_raw(path: Path, limit: int) -> tuple[pa.Table | None, Locator, list[IngestError]]:
    """The file's columns as read (ts possibly still text), where its rows came from, or its errors."""
    name = str(path)
    if not path.is_file():
        error = IngestError(name, None, None, "an existing file", found="nothing there", fix="check the path")
        return None, row_locator, [error]
    fmt = file_format(path)
    if fmt == "parquet":
        try:
            return pq.read_table(path), row_locator, []
        except (pa.ArrowInvalid, OSError) as exc:
            error = IngestError(name, None, None, "a Parquet file", found=str(exc), fix="re-export the file")
            return None, row_locator, [error]
    if fmt == "csv":
        return _read_csv(path)
    return _read_jsonl(path, limit)


def _read_jsonl(path: Path, limit: int) -> tuple[pa.Table | None, Locator, list[IngestError]]:
    locate = LineLocator(path)
    if _starts_with(path, b"["):
        return _read_json_array(path, limit)
    schema = pa.schema([(n, t) for n, t in TEXT_INPUT_TYPES.items()])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    try:
        table = pa_json.read_json(
            path, read_options=pa_json.ReadOptions(block_size=_BLOCK), parse_options=options
        )
    except pa.ArrowInvalid:
        table, errors = records_to_table(_json_lines(path), str(path), locate, limit)
        return table, locate, errors
    return table, locate, []


def _json_lines(path: Path) -> list[object]:
    parsed: list[object] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                parsed.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                parsed.append(NotJson(exc.msg))
    return parsed


def _read_json_array(path: Path, limit: int) -> tuple[pa.Table | None, Locator, list[IngestError]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        error = IngestError(
            str(path), None, None, "a JSON array of objects", found=str(exc), fix="fix the JSON"
        )
        return None, row_locator, [error]
    records = data if isinstance(data, list) else [data]
    locate: Locator = lambda row: f"element {row + 1}"  # noqa: E731 - a one-line locator reads best inline
    table, errors = records_to_table(records, str(path), locate, limit)
    return table, locate, errors


def _read_csv(path: Path) -> tuple[pa.Table | None, Locator, list[IngestError]]:
    locate = LineLocator(path, header_lines=1)
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(INPUT_TYPES, pa.string()),
        strings_can_be_null=True,
    )
    try:
        table = pa_csv.read_csv(
            path, read_options=pa_csv.ReadOptions(block_size=_BLOCK), convert_options=convert
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        return None, locate, [_csv_shape_error(path, str(exc))]
    return table, locate, []


def _csv_shape_error(path: Path, arrow_message: str) -> IngestError:
    """Find the line whose field count differs from the header's (the usual cause of a CSV parse error)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        for fields in reader:
            if not fields:
                continue
            if header is None:
                header = fields
            elif len(fields) != len(header):
                return IngestError(
                    str(path),
                    f"line {reader.line_num}",
                    None,
                    f"{len(header)} fields as in the header",
                    found=f"{len(fields)} fields",
                    fix="quote values that contain commas",
                )
    return IngestError(
        str(path), None, None, "a CSV file with a header line", found=arrow_message, fix="fix the CSV"
    )


def _starts_with(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(4096).lstrip().startswith(prefix)
