"""query_volume: an employee views far more client-order records than usual in a rolling window.

Per actor and per (actor, account), the records viewed in the window
(t - window, t] must exceed both the floor and baseline_multiple x the
actor's baseline: the median of the actor's hourly totals over completed UTC
hours with at least one view in the last baseline_days days, as far as the
engine has seen them. An actor without such history is measured against the
peer baseline: the median hourly total over the active hours, in the same
span, of every viewer in the actor's peer group (same roles); with no
history at all, the floor alone decides. An alert fires
when a key goes above its threshold, not again while its window stays above.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import (
    BOOL,
    F64,
    I64,
    DayColumns,
    GroupIndex,
    dense_unique,
    expand_ranges,
)
from orderguard.surveillance.context import HOUR_NS, median, seconds_to_ns
from orderguard.surveillance.detector import Detector


class QueryVolume(Detector):
    rule: ClassVar[str] = "query_volume"
    description: ClassVar[str] = "Unusually many client-order records viewed in a rolling window."
    kinds: ClassVar[frozenset[EventKind]] = frozenset({EventKind.ORDER_VIEW})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.ctx.detectors.query_volume
        self.window_ns = seconds_to_ns(settings.window_seconds)
        self.floor = settings.floor
        self.multiple = settings.baseline_multiple
        self.history_buckets = settings.baseline_days * 24

    def initial_state(self) -> dict[str, Any]:
        # windows: key -> [deque[(ts, records, event_id)], sum, above]
        # habits: actor -> [bucket, total, deque[(bucket, total)] earlier, baseline]
        # peers: group -> [current bucket, {actor: total in it}, deque[(bucket, total)] earlier, median]
        return {"windows": {}, "habits": {}, "peers": {}, "swept": 0}

    def threshold(self, baseline: float | None) -> float:
        return float(self.floor) if baseline is None else max(float(self.floor), self.multiple * baseline)

    def _explain(self, actor: str, account: str | None, total: int, baseline: float | None, own: bool) -> str:
        scope = f"of account {account}" if account is not None else "across all accounts"
        whose = "their usual" if own else "their peers' usual"
        habit = (
            "no viewing history on record"
            if baseline is None
            else f"{self.multiple:g}x {whose} {baseline:g} records per hour"
        )
        return (
            f"{actor} viewed {total:,} client-order records {scope} within {self.window_ns / 3.6e12:g} h, "
            f"above the floor of {self.floor} and {habit}."
        )

    # -- stream -------------------------------------------------------------
    def _peer_baseline(self, bucket: int, actor: str, records: int) -> float | None:
        group = self.ctx.peer_group(actor)
        peers = self.state["peers"].get(group)
        if peers is None:
            peers = self.state["peers"][group] = [None, {}, deque(), None]
        if peers[0] != bucket:
            done: deque[tuple[int, int]] = peers[2]
            if peers[0] is not None:
                done.extend((peers[0], total) for total in peers[1].values())
            while done and done[0][0] < bucket - self.history_buckets:
                done.popleft()
            peers[0], peers[1] = bucket, {}
            peers[3] = median([t for _, t in done]) if done else None
        peers[1][actor] = peers[1].get(actor, 0) + records
        baseline: float | None = peers[3]
        return baseline

    def _baseline(self, actor: str, ts: int, records: int) -> tuple[float | None, bool]:
        """(baseline, whether it is the actor's own rather than the peers')."""
        bucket = ts // HOUR_NS
        peer = self._peer_baseline(bucket, actor, records)
        habit = self.state["habits"].get(actor)
        if habit is None:
            habit = self.state["habits"][actor] = [bucket, 0, deque(), None]
        elif habit[0] != bucket:
            done: deque[tuple[int, int]] = habit[2]
            done.append((habit[0], habit[1]))
            while done and done[0][0] < bucket - self.history_buckets:
                done.popleft()
            habit[0], habit[1] = bucket, 0
            habit[3] = median([t for _, t in done]) if done else None
        habit[1] += records
        if habit[3] is not None:
            return habit[3], True
        return peer, False

    def _sweep(self, now: int) -> None:
        windows = self.state["windows"]
        for key in [k for k, w in windows.items() if w[0][-1][0] <= now - self.window_ns]:
            del windows[key]
        self.state["swept"] = now

    def observe(self, event: Event) -> list[Alert]:
        if event.kind is not EventKind.ORDER_VIEW or event.records is None:
            return []
        if event.ts - self.state["swept"] > self.window_ns:
            self._sweep(event.ts)
        baseline, own = self._baseline(event.actor, event.ts, event.records)
        limit = self.threshold(baseline)
        keys: list[tuple[str, ...]] = [(event.actor,)]
        if event.account is not None:
            keys.append((event.actor, event.account))
        alerts = []
        for key in keys:
            window = self.state["windows"].get(key)
            if window is None:
                window = self.state["windows"][key] = [deque(), 0, False]
            entries: deque[tuple[int, int, str]] = window[0]
            while entries and entries[0][0] <= event.ts - self.window_ns:
                window[1] -= entries.popleft()[1]
            was_above = bool(entries) and window[2]
            entries.append((event.ts, event.records, event.event_id))
            window[1] += event.records
            window[2] = window[1] > limit
            if window[2] and not was_above:
                account = key[1] if len(key) == 2 else None
                alerts.append(
                    self.alert(
                        actor=event.actor,
                        symbol=None,
                        ts=event.ts,
                        event_ids=tuple(e[2] for e in entries),
                        explanation=self._explain(event.actor, account, window[1], baseline, own),
                        scope="account:" + account if account is not None else "actor",
                    )
                )
        return alerts

    # -- batch --------------------------------------------------------------
    def _baselines(
        self, names: list[str], actor: I64, bucket: I64, records: I64
    ) -> tuple[F64, I64, list[tuple[float | None, bool]]]:
        """Per view: threshold and (actor, hour) key; per key: (baseline, own) as the stream has them."""
        span = int(bucket.max() - bucket.min()) + 1 if len(bucket) else 1
        key = actor * span + (bucket - (bucket.min() if len(bucket) else 0))
        keys, inverse = dense_unique(key)
        totals = np.bincount(inverse.reshape(-1), weights=records, minlength=len(keys)).astype(np.float64)
        k_actor, k_bucket = keys // span, keys % span
        baselines: list[float | None] = [None] * len(keys)
        start = 0
        for i in range(len(keys)):
            if i and k_actor[i] != k_actor[i - 1]:
                start = i
            lo = start
            while lo < i and k_bucket[lo] < k_bucket[i] - self.history_buckets:
                lo += 1
            start = lo
            if lo < i:
                baselines[i] = median([int(t) for t in totals[lo:i]])
        group_codes: dict[str, int] = {}
        k_group = np.array(
            [
                group_codes.setdefault(self.ctx.peer_group(names[a]), len(group_codes))
                for a in k_actor.tolist()
            ],
            dtype=np.int64,
        )
        peers = self._peer_medians(k_group, k_bucket, totals)
        chosen = [
            (b, True) if b is not None else (peers[(int(k_group[i]), int(k_bucket[i]))], False)
            for i, b in enumerate(baselines)
        ]
        limits = np.array([self.threshold(b) for b, _ in chosen], dtype=np.float64)
        inv = inverse.reshape(-1).astype(np.int64)
        return limits[inv], inv, chosen

    def _peer_medians(self, k_group: I64, k_bucket: I64, totals: F64) -> dict[tuple[int, int], float | None]:
        """Per (peer group, bucket): the median of the group's totals in earlier buckets of the span."""
        result: dict[tuple[int, int], float | None] = {}
        for group in np.unique(k_group).tolist():
            mine = k_group == group
            order = np.argsort(k_bucket[mine], kind="stable")
            buckets, values = k_bucket[mine][order], totals[mine][order]
            for b in np.unique(buckets).tolist():
                lo = int(np.searchsorted(buckets, b - self.history_buckets, side="left"))
                hi = int(np.searchsorted(buckets, b, side="left"))
                result[(group, b)] = median([int(t) for t in values[lo:hi]]) if hi > lo else None
        return result

    def scan(self, day: DayColumns) -> list[Alert]:
        actor = day.coded("actor").codes
        account_col = day.coded("account")
        views = day.rows(EventKind.ORDER_VIEW)
        pos = views[(day.records[views] >= 0) & (actor[views] >= 0)]
        records = day.records[pos]
        names = day.coded("actor").values
        viewer = actor[pos].astype(np.int64)  # int64 before combining codes into (actor, account) keys
        limits, hour_key, baselines = self._baselines(names, viewer, day.ts[pos] // HOUR_NS, records)
        alerts: list[Alert] = []
        n_accounts = len(account_col) + 1
        account = account_col.codes[pos]
        for scoped in (False, True):
            groups = viewer * n_accounts + account + 1 if scoped else viewer
            rows = np.flatnonzero(account >= 0) if scoped else np.arange(len(pos))
            rows = rows[self._may_go_above(groups[rows], records[rows])]
            alerts += self._crossings(
                day,
                pos[rows],
                groups[rows],
                records=records[rows],
                limits=limits[rows],
                hour_key=hour_key[rows],
                baselines=baselines,
                scoped=scoped,
            )
        return alerts

    def _may_go_above(self, groups: I64, records: I64) -> BOOL:
        """Rows of the keys whose records over the whole day exceed the floor.

        No window of another key can go above the threshold (never below the floor),
        and keys are independent, so dropping them changes no alert: for the
        (actor, account) scope that is most rows.
        """
        _, inverse = dense_unique(groups)
        totals = np.bincount(inverse, weights=records)
        return np.asarray(totals[inverse] > self.floor)

    def _crossings(
        self,
        day: DayColumns,
        pos: I64,
        groups: I64,
        *,
        records: I64,
        limits: F64,
        hour_key: I64,
        baselines: list[tuple[float | None, bool]],
        scoped: bool,
    ) -> list[Alert]:
        index = GroupIndex(pos, groups, day.n)
        order = index.order
        rec, lim = records[order], limits[order]
        cumulative = np.cumsum(rec)
        i = np.arange(len(order), dtype=np.int64)
        # Window starts found among these rows in position order (ascending probes, a smaller
        # haystack than the whole day), then carried into group order.
        ts = day.ts[pos]
        after = np.searchsorted(ts, ts - self.window_ns, side="right")
        window_start = np.append(pos, day.n)[after][order]
        first = index.start(index.groups, window_start)
        total = cumulative - (cumulative[first] - rec[first]) if len(order) else cumulative
        above = total > lim
        prev_above = np.zeros(len(order), dtype=bool)
        prev_above[1:] = above[:-1]
        fire = np.flatnonzero(above & ~((first < i) & prev_above))
        if not len(fire):
            return []
        alerts = []
        actors = day.strings("actor", index.positions[fire])
        accounts = day.strings("account", index.positions[fire])
        # Every fired window's event ids in one take: window n is rows first[f] .. f.
        lo, hi = first[fire], fire + 1
        _, rows = expand_ranges(lo, hi)
        all_ids = day.event_ids(index.positions[rows])
        ends = np.cumsum(hi - lo)
        for n, f in enumerate(fire.tolist()):
            ids = tuple(all_ids[int(ends[n] - (f + 1 - first[f])) : int(ends[n])])
            account = accounts[n] if scoped else None
            baseline, own = baselines[int(hour_key[order[f]])]
            alerts.append(
                self.alert(
                    actor=actors[n] or "",
                    symbol=None,
                    ts=int(day.ts[index.positions[f]]),
                    event_ids=ids,
                    explanation=self._explain(actors[n] or "", account, int(total[f]), baseline, own),
                    scope="account:" + (account or "") if scoped else "actor",
                )
            )
        return alerts
