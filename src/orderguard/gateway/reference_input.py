"""Reading reference prices from a feed batch or an end-of-day file (CSV or JSON), all or nothing.

Each row has exactly ``symbol``, ``price`` (a positive finite number) and ``ts`` (RFC 3339 UTC,
e.g. ``2026-11-20T21:00:00Z``, at most ``MAX_AHEAD_NS``, 5 minutes, ahead of now). The first bad
row stops the read with an error naming the input, the row (1-based; a CSV's line) and the field,
and what to write instead: nothing is stored.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from orderguard.domain import format_ts, parse_ts
from orderguard.domain.events import TimestampError
from orderguard.gateway.control_notional import MAX_AHEAD_NS
from orderguard.gateway.reference_prices import PriceUpdate

FIELDS: Final = ("symbol", "price", "ts")
MAX_ROWS: Final = 100_000
_SYMBOL: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,31}")


class ReferenceInputError(ValueError):
    """A feed batch or file that cannot be stored; the message names the place and the fix."""


def parse_rows(
    rows: Sequence[Mapping[str, object]],
    source: str,
    where: str,
    *,
    first_row: int = 1,
    now_ns: int | None = None,
) -> list[PriceUpdate]:
    """``rows`` as updates from ``source``; ``where`` names the input in errors (a file, "request body").

    A ``ts`` more than ``MAX_AHEAD_NS`` after ``now_ns`` (default: the wall clock) is refused."""
    latest = (time.time_ns() if now_ns is None else now_ns) + MAX_AHEAD_NS
    if not rows:
        raise ReferenceInputError(f"{where}: no prices; give at least one row of {', '.join(FIELDS)}")
    if len(rows) > MAX_ROWS:
        raise ReferenceInputError(f"{where}: {len(rows)} rows; at most {MAX_ROWS} per batch, split the input")
    return [_row(row, source, f"{where} row {n}", latest) for n, row in enumerate(rows, start=first_row)]


def _row(row: Mapping[str, object], source: str, at: str, latest: int) -> PriceUpdate:
    if not isinstance(row, Mapping):
        raise ReferenceInputError(f"{at}: expected an object with {', '.join(FIELDS)}")
    unknown = sorted(str(k) for k in row if k not in FIELDS)
    if unknown:
        raise ReferenceInputError(f"{at}: unknown field {unknown[0]!r}; only {', '.join(FIELDS)} are read")
    missing = [f for f in FIELDS if row.get(f) in (None, "")]
    if missing:
        raise ReferenceInputError(f"{at} field {missing[0]!r}: missing; every row needs {', '.join(FIELDS)}")
    symbol = row["symbol"]
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        raise ReferenceInputError(
            f"{at} field 'symbol': {symbol!r} is not a ticker (letters, digits, . - _ /, at most 32)"
        )
    return PriceUpdate(symbol, _price(row["price"], at), _ts(row["ts"], at, latest), source)


def _price(value: object, at: str) -> float:
    number: float | None = None
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = float(value)
        except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise ReferenceInputError(
            f"{at} field 'price': {value!r} is not a price; give a positive finite number, e.g. 187.5"
        )
    return number


def _ts(value: object, at: str, latest: int) -> int:
    try:
        ts = parse_ts(value if isinstance(value, str) else repr(value))
    except TimestampError as exc:
        raise ReferenceInputError(
            f"{at} field 'ts': {exc}; write RFC 3339 UTC, e.g. 2026-11-20T21:00:00Z"
        ) from None
    if ts > latest:
        raise ReferenceInputError(
            f"{at} field 'ts': {value!r} is in the future (more than {MAX_AHEAD_NS // 60_000_000_000} "
            f"minutes after now, {format_ts(latest - MAX_AHEAD_NS)}); give the time the price was observed"
        )
    return ts


def read_file(path: Path, source: str, *, now_ns: int | None = None) -> list[PriceUpdate]:
    """A CSV (header ``symbol,price,ts``) or JSON (a list of rows, or ``{"prices": [...]}``) file;
    ``now_ns`` as for ``parse_rows``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceInputError(f"{path}: cannot read it ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None:
            raise ReferenceInputError(f"{path}: empty; the first line is the header symbol,price,ts")
        rows: list[Mapping[str, object]] = []
        for line in reader:
            if None in line:
                raise ReferenceInputError(f"{path} row {reader.line_num}: more values than header columns")
            rows.append(line)
        # row numbers are the file's lines
        return parse_rows(rows, source, str(path), first_row=2, now_ns=now_ns)
    if suffix == ".json":
        try:
            data = json.loads(text)  # NaN and Infinity parse, and are refused by row and field
        except (ValueError, json.JSONDecodeError) as exc:
            raise ReferenceInputError(f"{path}: not JSON ({exc})") from None
        if isinstance(data, dict) and set(data) == {"prices"}:
            data = data["prices"]
        if not isinstance(data, list):
            raise ReferenceInputError(f'{path}: expected a list of rows or {{"prices": [...]}}')
        return parse_rows(data, source, str(path), now_ns=now_ns)
    raise ReferenceInputError(f"{path}: unknown file type {suffix or '(none)'!r}; use .csv or .json")
