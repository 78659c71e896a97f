"""Writing alerts as JSON Lines (docs/alert-format.md), all or nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from orderguard.domain.alerts import Alert


def alert_line(alert: Alert) -> str:
    """One alert as one JSON line (no trailing newline)."""
    return json.dumps(alert.to_record(), ensure_ascii=False, separators=(",", ":"))


def write_alerts(path: Path, alerts: Iterable[Alert]) -> int:
    """Write alerts to ``path`` through a temporary file and a rename: never a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for alert in alerts:
                handle.write(alert_line(alert) + "\n")
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count
