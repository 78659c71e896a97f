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
from collections.abc import Sequence
from typing import Any, ClassVar, Final

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
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler
from orderguard.surveillance.detectors._hourly_baselines import hourly_baselines
from orderguard.surveillance.detectors.wording import counted

SWEEP_WINDOWS: Final = 4


def _goes_above(window: list[Any], entry: tuple[int, int, str], horizon: int, limit: float) -> bool:
    """Add a view to a rolling window; whether the window's sum has just gone above ``limit``."""
    entries: deque[tuple[int, int, str]] = window[0]
    while entries and entries[0][0] <= horizon:
        window[1] -= entries.popleft()[1]
    was_above = window[2] and len(entries) > 0  # a bool now: entries grows below
    entries.append(entry)
    window[1] += entry[1]
    window[2] = above = window[1] > limit
    return above and not was_above


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
        self._sweep_every = SWEEP_WINDOWS * self.window_ns

    def initial_state(self) -> dict[str, Any]:
        # windows: actor -> [deque[(ts, records, event_id)], sum, above, {account: [deque, sum, above]}]
        # habits: actor -> [bucket, total, deque[(bucket, total)] earlier, baseline, threshold]
        # peers: group -> [bucket, {actor: their habit record, when they viewed in that bucket},
        #                  deque[(bucket, total)] earlier, median, threshold]
        return {"windows": {}, "habits": {}, "peers": {}, "swept": [0]}

    def threshold(self, baseline: float | None) -> float:
        return float(self.floor) if baseline is None else max(float(self.floor), self.multiple * baseline)

    def _explain(self, actor: str, account: str | None, total: int, baseline: float | None, own: bool) -> str:
        scope = f"of account {account}" if account is not None else "across all accounts"
        whose = "their usual" if own else "their peers' usual"
        habit = (
            "no viewing history on record"
            if baseline is None
            else f"{self.multiple:g}x {whose} {counted(baseline, 'record', spec='g')} per hour"
        )
        viewed = counted(total, "client-order record")
        return (
            f"{actor} viewed {viewed} {scope} within {self.window_ns / 3.6e12:g} h, "
            f"above the floor of {self.floor} and {habit}."
        )

    # -- stream -------------------------------------------------------------
    def bind_state(self) -> None:
        self._windows: dict[str, list[Any]] = self.state["windows"]
        self._swept: list[int] = self.state["swept"]
        # actor -> (habit record, peer-group record): both live in the state (a cache of two lookups).
        self._habit_and_peers: dict[str, tuple[list[Any], list[Any]]] = {}

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {EventKind.ORDER_VIEW: self._view}

    def _records_of(self, actor: str, bucket: int) -> tuple[list[Any], list[Any]]:
        """The actor's habit record and their peer group's record, created when first seen."""
        group = self.ctx.peer_group(actor)
        peers = self.state["peers"].get(group)
        if peers is None:
            peers = self.state["peers"][group] = [None, {}, deque(), None, self.threshold(None)]
        habit = self.state["habits"].get(actor)
        if habit is None:
            habit = self.state["habits"][actor] = [bucket, 0, deque(), None, self.threshold(None)]
        found = self._habit_and_peers[actor] = (habit, peers)
        return found

    def _next_peer_hour(self, peers: list[Any], bucket: int) -> None:
        done: deque[tuple[int, int]] = peers[2]
        if peers[0] is not None:  # each member's habit is still at peers[0]: it moves on only after this
            done.extend((peers[0], habit[1]) for habit in peers[1].values())
        while done and done[0][0] < bucket - self.history_buckets:
            done.popleft()
        peers[0], peers[1] = bucket, {}
        peers[3] = median([t for _, t in done]) if done else None
        peers[4] = self.threshold(peers[3])

    def _next_hour(self, habit: list[Any], bucket: int) -> None:
        done: deque[tuple[int, int]] = habit[2]
        done.append((habit[0], habit[1]))
        while done and done[0][0] < bucket - self.history_buckets:
            done.popleft()
        habit[0], habit[1] = bucket, 0
        habit[3] = median([t for _, t in done]) if done else None
        habit[4] = self.threshold(habit[3])

    def _sweep(self, now: int) -> None:
        horizon = now - self.window_ns
        windows = self._windows
        for actor in list(windows):
            window = windows[actor]
            if window[0][-1][0] <= horizon:  # an account window never ends after its actor's
                del windows[actor]
                continue
            accounts = window[3]
            for account in [a for a, w in accounts.items() if w[0][-1][0] <= horizon]:
                del accounts[account]
        self._swept[0] = now

    def _view(self, event: Event) -> Sequence[Alert]:
        records = event.records
        if records is None:
            return NO_ALERTS
        ts, actor = event.ts, event.actor
        # Memory only (a window past its horizon is emptied when next touched anyway), so a sweep
        # every few windows: each one walks every account window.
        if ts - self._swept[0] > self._sweep_every:
            self._sweep(ts)
        bucket = ts // HOUR_NS
        found = self._habit_and_peers.get(actor)
        habit, peers = found if found is not None else self._records_of(actor, bucket)
        if peers[0] != bucket:
            self._next_peer_hour(peers, bucket)
        if habit[0] != bucket:
            self._next_hour(habit, bucket)
        if habit[1] == 0:  # the actor's first records this hour: one more peer total for the hour
            peers[1][actor] = habit
        habit[1] += records
        own = habit[3] is not None
        limit = habit[4] if own else peers[4]
        entry = (ts, records, event.event_id)
        horizon = ts - self.window_ns
        window = self._windows.get(actor)
        if window is None:
            window = self._windows[actor] = [deque(), 0, False, {}]
        alerts = NO_ALERTS
        if _goes_above(window, entry, horizon, limit):
            alerts = (self._alert(window, actor, None, habit[3] if own else peers[3], own),)
        account = event.account
        if account is not None:
            scoped = window[3].get(account)
            if scoped is None:
                scoped = window[3][account] = [deque(), 0, False]
            if _goes_above(scoped, entry, horizon, limit):
                alerts += (self._alert(scoped, actor, account, habit[3] if own else peers[3], own),)
        return alerts

    def _alert(
        self, window: list[Any], actor: str, account: str | None, baseline: float | None, own: bool
    ) -> Alert:
        entries: deque[tuple[int, int, str]] = window[0]
        return self.alert(
            actor=actor,
            symbol=None,
            ts=entries[-1][0],
            event_ids=tuple(e[2] for e in entries),
            explanation=self._explain(actor, account, window[1], baseline, own),
            scope="account:" + account if account is not None else "actor",
        )

    # -- batch --------------------------------------------------------------
    def scan(self, day: DayColumns) -> list[Alert]:
        actor = day.coded("actor").codes
        account_col = day.coded("account")
        views = day.rows(EventKind.ORDER_VIEW)
        view_records = day.records_at(views)
        keep = (view_records >= 0) & (actor[views] >= 0)
        pos, records = views[keep], view_records[keep]
        names = day.coded("actor").values
        viewer = actor[pos].astype(np.int64)  # int64 before combining codes into (actor, account) keys
        limits, hour_key, baselines = hourly_baselines(
            names,
            viewer,
            day.ts[pos] // HOUR_NS,
            records,
            history_buckets=self.history_buckets,
            peer_group=self.ctx.peer_group,
            threshold=self.threshold,
        )
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
        # Window starts: one search over (group, time) keys, probes ascending in group order.
        first = index.window_first(day.ts[index.positions], self.window_ns)
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
