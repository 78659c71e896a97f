"""Ground truth for planted scenarios: which alerts must fire and which near misses must stay silent.

A label names a rule, what is expected (``alert`` or ``none``), the planted
events and the trigger: the event whose arrival makes the alert decidable.
An alert matches an ``alert`` label when it has the label's rule and names
the trigger among its events; it matches a ``none`` label (a false alarm)
when it has the rule and names any of the label's events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from orderguard.domain.alerts import Alert


@dataclass(frozen=True)
class Label:
    scenario: str
    rule: str
    expect: str  # "alert" or "none"
    trigger: str
    event_ids: tuple[str, ...]
    severity: str | None = None

    def to_record(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "rule": self.rule,
            "expect": self.expect,
            "trigger": self.trigger,
            "event_ids": list(self.event_ids),
            "severity": self.severity,
        }

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Label:
        ids = record.get("event_ids") or []
        assert isinstance(ids, list)
        severity = record.get("severity")
        return cls(
            scenario=str(record["scenario"]),
            rule=str(record["rule"]),
            expect=str(record["expect"]),
            trigger=str(record["trigger"]),
            event_ids=tuple(str(i) for i in ids),
            severity=None if severity is None else str(severity),
        )

    def matched_by(self, alert: Alert) -> bool:
        if alert.rule != self.rule:
            return False
        if self.expect == "alert":
            return self.trigger in alert.event_ids and (
                self.severity is None or alert.severity == self.severity
            )
        return bool(set(self.event_ids) & set(alert.event_ids))


def write_labels(path: Path, labels: tuple[Label, ...] | list[Label]) -> Path:
    """Labels as JSON Lines."""
    path.write_text("".join(json.dumps(label.to_record()) + "\n" for label in labels), encoding="utf-8")
    return path


def read_labels(path: Path) -> list[Label]:
    return [
        Label.from_record(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line
    ]


@dataclass(frozen=True)
class RuleQuality:
    rule: str
    labelled: int
    found: int
    alerts: int
    true_alerts: int
    near_misses: int
    near_miss_alerts: int

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(alerts: list[Alert], labels: list[Label], rules: tuple[str, ...]) -> list[RuleQuality]:
    """Precision, recall and F1 per rule: every alert not matching an abuse label is a false alarm."""
    result = []
    for rule in rules:
        wanted = [label for label in labels if label.rule == rule and label.expect == "alert"]
        misses = [label for label in labels if label.rule == rule and label.expect == "none"]
        fired = [a for a in alerts if a.rule == rule]
        result.append(
            RuleQuality(
                rule=rule,
                labelled=len(wanted),
                found=sum(1 for label in wanted if any(label.matched_by(a) for a in fired)),
                alerts=len(fired),
                true_alerts=sum(1 for a in fired if any(label.matched_by(a) for label in wanted)),
                near_misses=len(misses),
                near_miss_alerts=sum(1 for label in misses if any(label.matched_by(a) for a in fired)),
            )
        )
    return result
