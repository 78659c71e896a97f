"""Prometheus metrics of the live surveillance stage, read from its status at each scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orderguard.wiring.live_surveillance import LiveSurveillance


class LiveSurveillanceCollector(Collector):
    """Events observed, alerts raised, late events and lag of one stage (counters survive restarts)."""

    def __init__(self, live: LiveSurveillance) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        status = self.live.status()
        yield CounterMetricFamily(
            "orderguard_live_events_observed", "events observed by live surveillance", status.events_observed
        )
        yield CounterMetricFamily(
            "orderguard_live_alerts_raised", "new alerts stored by live surveillance", status.alerts_raised
        )
        yield CounterMetricFamily(
            "orderguard_live_late_events",
            "events stored behind the live position (left to a batch scan)",
            status.late_events,
        )
        yield GaugeMetricFamily(
            "orderguard_live_lag_seconds",
            "age of the oldest event still to observe at the stage's latest pass",
            status.lag_seconds,
        )
