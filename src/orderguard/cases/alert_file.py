"""Reading alerts from JSON Lines (docs/alert-format.md), all or nothing.

Every line is checked before any alert is returned; the first bad line raises
``AlertFileError`` naming the file, the line, the field and the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

from orderguard.domain.alerts import Alert
from orderguard.domain.events import TimestampError, parse_ts

_TEXT_FIELDS = ("alert_id", "rule", "severity", "actor", "explanation", "action")


class AlertFileError(ValueError):
    """A line of an alert file that is not a valid alert; nothing from the file was used."""


def parse_alert(record: object, where: str) -> Alert:
    """One alert from a decoded JSON record; ``where`` (file:line) prefixes every error."""
    if not isinstance(record, dict):
        raise AlertFileError(f"{where}: expected a JSON object with the alert fields")
    for name in _TEXT_FIELDS:
        value = record.get(name)
        if not isinstance(value, str) or not value:
            raise AlertFileError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
    symbol = record.get("symbol")
    if symbol is not None and not isinstance(symbol, str):
        raise AlertFileError(f"{where}: field 'symbol' must be a string or null, got {symbol!r}")
    event_ids = record.get("event_ids")
    if not isinstance(event_ids, list) or not event_ids or not all(isinstance(e, str) for e in event_ids):
        raise AlertFileError(f"{where}: field 'event_ids' must be a non-empty list of event id strings")
    ts = record.get("ts")
    try:
        ts_ns = parse_ts(ts) if isinstance(ts, str) else None
    except TimestampError as exc:
        raise AlertFileError(f"{where}: field 'ts': {exc}") from None
    if ts_ns is None:
        raise AlertFileError(f"{where}: field 'ts' must be an RFC 3339 UTC string, got {ts!r}")
    return Alert(
        str(record["alert_id"]),
        str(record["rule"]),
        str(record["severity"]),
        str(record["actor"]),
        symbol,
        ts_ns,
        tuple(event_ids),
        str(record["explanation"]),
        str(record["action"]),
    )


def read_alerts(path: Path) -> list[Alert]:
    """Every alert of a JSON Lines file (blank lines skipped), or ``AlertFileError`` at the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlertFileError(f"{path}: cannot read the alert file ({exc.strerror}); check the path") from None
    except UnicodeDecodeError:
        raise AlertFileError(f"{path}: not UTF-8 text; alert files are UTF-8 JSON Lines") from None
    alerts: list[Alert] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AlertFileError(f"{where}: not valid JSON ({exc.msg}); one alert object per line") from None
        alerts.append(parse_alert(record, where))
    return alerts
