"""Alerts: what surveillance hands to compliance (docs/alert-format.md).

An alert's id is a hash of its rule, its scope and the ids of the events it
rests on, so running the same detectors over the same events twice, or a
live stream and a replay of it, yields the same ids and never duplicates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from orderguard.domain.events import format_ts

ALERT_FORMAT_VERSION = 1


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def alert_id_for(rule: str, event_ids: tuple[str, ...], scope: str = "") -> str:
    """The deterministic alert id: first 32 hex digits of SHA-256 over rule, scope and event ids."""
    digest = hashlib.sha256()
    for part in (rule, scope, *event_ids):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Alert:
    """One finding. ``ts`` is epoch ns UTC of the event that made the alert decidable."""

    alert_id: str
    rule: str
    severity: str
    actor: str
    symbol: str | None
    ts: int
    event_ids: tuple[str, ...]
    explanation: str
    action: str

    @classmethod
    def build(
        cls,
        *,
        rule: str,
        severity: str,
        actor: str,
        symbol: str | None,
        ts: int,
        event_ids: tuple[str, ...],
        explanation: str,
        action: str,
        scope: str = "",
    ) -> Alert:
        """An alert whose id is derived from rule, scope and event ids."""
        return cls(
            alert_id_for(rule, event_ids, scope),
            rule,
            severity,
            actor,
            symbol,
            ts,
            event_ids,
            explanation,
            action,
        )

    def to_record(self) -> dict[str, object]:
        """The JSON Lines record of docs/alert-format.md (ts as RFC 3339 with nanoseconds)."""
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "severity": self.severity,
            "actor": self.actor,
            "symbol": self.symbol,
            "ts": format_ts(self.ts),
            "event_ids": list(self.event_ids),
            "explanation": self.explanation,
            "action": self.action,
        }
