"""The batch engine: every detector over a whole day of columns at once.

On a large day the work runs on a small thread pool: NumPy and Arrow release
the GIL inside their kernels (sorts, gathers, searches), so independent
detectors overlap on separate cores. The columns and the order lifecycle the
detectors share are each computed once, by the first tasks in the pool; a
detector that reads the lifecycle waits for it, the others start at once, the
longest first (a short task last fills the gap). Results are merged in
registry order, so the report is the same whatever the pool does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

import pyarrow as pa

from orderguard.config import FirmConfig
from orderguard.domain.alerts import Alert
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.context import SurveillanceContext
from orderguard.surveillance.custom_rules import CustomRule
from orderguard.surveillance.detector import Detector
from orderguard.surveillance.families import family_side_groups
from orderguard.surveillance.orders import OrderLifecycle
from orderguard.surveillance.registry import build_detectors

# Below this many events a pool costs more than it saves.
PARALLEL_FROM: Final = 200_000
ORDER_RULES: Final = frozenset({"front_running", "copy_trading"})  # the detectors reading OrderLifecycle
# Started first on a pool, longest first (measured on a 10M-event day); the rest follow in registry order.
LONGEST_FIRST: Final = ("query_volume", "copy_trading", "wash_trading", "bulk_export")


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """The report order: by time, then rule, then id (the stream's order up to ties)."""
    return sorted(alerts, key=lambda a: (a.ts, a.rule, a.alert_id))


class BatchEngine:
    """Runs the detectors (and custom rules) over an event table in EVENT_SCHEMA layout.

    ``workers`` is the thread count (default: up to 2 on a day of at least PARALLEL_FROM events).
    """

    def __init__(
        self,
        firm: FirmConfig,
        *,
        rules: tuple[str, ...] | None = None,
        custom: tuple[CustomRule, ...] = (),
        workers: int | None = None,
    ) -> None:
        self.ctx = SurveillanceContext.from_config(firm)
        self.detectors: list[Detector] = build_detectors(self.ctx, rules)
        self.custom = custom
        self.workers = workers

    def scan(self, table: pa.Table, progress: Callable[[str], None] | None = None) -> list[Alert]:
        """All alerts over the table, deduplicated by id, in report order."""
        day = DayColumns.from_table(table)
        tasks: list[tuple[str, Callable[[], list[Alert]]]] = [(d.rule, _bind(d, day)) for d in self.detectors]
        tasks += [(r.id, _bind_custom(r, day, self.ctx)) for r in self.custom]
        workers = self.workers or (min(2, os.cpu_count() or 1) if day.n >= PARALLEL_FROM else 1)
        if workers <= 1:
            results = []
            for name, task in tasks:
                if progress:
                    progress(name)
                results.append(task())
        else:
            results = self._parallel(day, tasks, workers, progress)
        found: dict[str, Alert] = {}
        for alerts in results:
            for alert in alerts:
                found.setdefault(alert.alert_id, alert)
        return sort_alerts(list(found.values()))

    def _parallel(
        self,
        day: DayColumns,
        tasks: list[tuple[str, Callable[[], list[Alert]]]],
        workers: int,
        progress: Callable[[str], None] | None,
    ) -> list[list[Alert]]:
        rules = {d.rule for d in self.detectors}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="surveillance") as pool:
            _ = day.qty, day.rows_by_kind  # what both preparations below read
            lifecycle: Future[object] | None = None
            if rules & ORDER_RULES:
                lifecycle = pool.submit(OrderLifecycle.of, day)
            prepared: Future[object] = pool.submit(_prepare_columns, day, self.ctx, rules)
            futures: dict[int, Future[list[Alert]]] = {}
            for i in sorted(range(len(tasks)), key=lambda i: _start_rank(tasks[i][0])):
                name, task = tasks[i]
                needs: list[Future[object] | None] = [prepared, lifecycle if name in ORDER_RULES else None]
                futures[i] = pool.submit(_after, needs, task)
            results: list[list[Alert]] = []
            for i, (name, _) in enumerate(tasks):
                results.append(futures[i].result())
                if progress:
                    progress(name)
            return results


def _start_rank(name: str) -> int:
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def _after(needs: list[Future[object] | None], task: Callable[[], list[Alert]]) -> list[Alert]:
    """Run the task once the shared preparations it reads are done (each computed once)."""
    for need in needs:
        if need is not None:
            need.result()
    return task()


def _prepare_columns(day: DayColumns, ctx: SurveillanceContext, rules: set[str]) -> None:
    """Compute, once, the columns several detectors read (each is cached on the day)."""
    for name in ("actor", "account", "venue", "symbol"):
        day.coded(name)
    _ = day.side
    if rules & (ORDER_RULES | {"wash_trading"}):
        family_side_groups(day, ctx)


def _bind(detector: Detector, day: DayColumns) -> Callable[[], list[Alert]]:
    return lambda: detector.scan(day)


def _bind_custom(rule: CustomRule, day: DayColumns, ctx: SurveillanceContext) -> Callable[[], list[Alert]]:
    return lambda: rule.scan(day, ctx)
