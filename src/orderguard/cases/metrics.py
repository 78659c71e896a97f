"""Metrics for tuning rules (prometheus-client): alerts per rule, time to triage and to close,
dispositions and the false-positive rate per rule, and failed notifications.

Each ``CaseMetrics`` registers on its own ``CollectorRegistry`` by default, so tests and several
stacks in one process never collide; pass ``prometheus_client.REGISTRY`` to expose them globally.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from orderguard.cases.model import Disposition, StoredAlert

_NS = 1e9
# From a minute to a month: triage is minutes to hours, closing is days to weeks.
_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400, float("inf"))


class CaseMetrics:
    """Counters and histograms fed by the alert service."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.alerts = Counter(
            "orderguard_alerts",
            "Alerts stored, per rule and severity.",
            ["rule", "severity"],
            registry=self.registry,
        )
        self.time_to_triage = Histogram(
            "orderguard_alert_time_to_triage_seconds",
            "From an alert's arrival to its first triage step.",
            ["rule"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.time_to_close = Histogram(
            "orderguard_alert_time_to_close_seconds",
            "From an alert's arrival to its closing.",
            ["rule"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.closed = Counter(
            "orderguard_alerts_closed",
            "Closed alerts, per rule and disposition.",
            ["rule", "disposition"],
            registry=self.registry,
        )
        self.false_positive_rate = Gauge(
            "orderguard_alert_false_positive_ratio",
            "Share of a rule's closed alerts closed as false positives.",
            ["rule"],
            registry=self.registry,
        )
        self.notification_failures = Counter(
            "orderguard_notification_failures",
            "Failed notification attempts.",
            ["notifier"],
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self._closed_by_rule: dict[str, list[int]] = {}  # rule -> [closed, false positives]

    def alert_stored(self, alert: StoredAlert) -> None:
        self.alerts.labels(alert.alert.rule, alert.alert.severity).inc()

    def alert_triaged(self, alert: StoredAlert) -> None:
        if alert.triaged_ns is not None:
            self.time_to_triage.labels(alert.alert.rule).observe(
                max(0, alert.triaged_ns - alert.received_ns) / _NS
            )

    def alert_closed(self, alert: StoredAlert) -> None:
        rule = alert.alert.rule
        if alert.closed_ns is not None:
            self.time_to_close.labels(rule).observe(max(0, alert.closed_ns - alert.received_ns) / _NS)
        disposition = alert.disposition.value if alert.disposition else "none"
        self.closed.labels(rule, disposition).inc()
        with self._lock:
            counts = self._closed_by_rule.setdefault(rule, [0, 0])
            counts[0] += 1
            counts[1] += alert.disposition is Disposition.FALSE_POSITIVE
            self.false_positive_rate.labels(rule).set(counts[1] / counts[0])

    def seed_outcomes(self, outcomes: dict[str, dict[str, int]]) -> None:
        """Start the false-positive ratio from what is stored (``CaseStore.rule_outcomes()``), so a
        restarted process reports the rate over every closed alert, not only the ones it closed."""
        with self._lock:
            for rule, counts in outcomes.items():
                closed = sum(v for k, v in counts.items() if k != "total")
                if closed:
                    false = counts.get(Disposition.FALSE_POSITIVE.value, 0)
                    self._closed_by_rule[rule] = [closed, false]
                    self.false_positive_rate.labels(rule).set(false / closed)

    def notification_failed(self, notifier: str) -> None:
        self.notification_failures.labels(notifier).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


def false_positive_rates(outcomes: dict[str, dict[str, int]]) -> dict[str, float | None]:
    """Per rule, false positives / closed alerts from ``CaseStore.rule_outcomes()`` (None: none closed)."""
    rates: dict[str, float | None] = {}
    for rule, counts in outcomes.items():
        closed = sum(v for k, v in counts.items() if k != "total")
        rates[rule] = None if closed == 0 else counts.get(Disposition.FALSE_POSITIVE.value, 0) / closed
    return rates
