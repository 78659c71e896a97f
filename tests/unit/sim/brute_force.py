"""Slow, obviously-correct versions of the surveillance rules, to prove a generated day is clean."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from orderguard.config import FirmConfig

NS = 1_000_000_000
Columns = dict[str, np.ndarray]
Findings = defaultdict[str, list[str]]


def _columns(table: pa.Table) -> Columns:
    out = {n: np.array(table.column(n).to_pylist(), dtype=object) for n in table.column_names if n != "ts"}
    out["t"] = np.array(table.column("ts").cast(pa.int64()).to_pylist(), dtype=np.int64)
    return out


def findings(table: pa.Table, firm: FirmConfig) -> dict[str, list[str]]:
    """Every rule's matches as event_id descriptions; an empty list per rule means clean."""
    c = _columns(table)
    result: Findings = defaultdict(list)
    _personal_trading(c, result)
    _wash_trading(c, firm, result)
    _access(c, firm, result)
    _structuring(c, firm, result)
    return dict(result)


def _order_facts(c: Columns) -> tuple[dict[str, int], dict[str, int], dict[str, set[str]]]:
    """When each order stopped working, its last execution, and who handled or viewed it."""
    kind = c["kind"]
    order_end: dict[str, int] = {}
    last_exec: dict[str, int] = {}
    for i in np.flatnonzero(np.isin(kind, ["execution", "order_cancel"])):
        oid = c["order_id"][i]
        order_end[oid] = max(order_end.get(oid, 0), int(c["t"][i]))
        if kind[i] == "execution":
            last_exec[oid] = max(last_exec.get(oid, 0), int(c["t"][i]))
    handled: dict[str, set[str]] = defaultdict(set)
    for i in np.flatnonzero(np.isin(kind, ["client_order", "order_view"])):
        if c["order_id"][i] is not None:
            handled[c["order_id"][i]].add(c["actor"][i])
    return order_end, last_exec, handled


def _personal_trading(c: Columns, result: Findings) -> None:
    """Front running, copy trading and large personal trades."""
    orders = np.flatnonzero(c["kind"] == "client_order")
    order_end, last_exec, handled = _order_facts(c)
    for p in np.flatnonzero(c["kind"] == "personal_trade"):
        same = orders[(c["symbol"][orders] == c["symbol"][p]) & (c["side"][orders] == c["side"][p])]
        for o in same:
            oid = c["order_id"][o]
            lead = c["t"][o] - c["t"][p]
            working = c["t"][o] <= c["t"][p] <= order_end.get(oid, c["t"][o])
            if c["qty"][o] > 100 * c["qty"][p] and (0 <= lead <= 60 * NS or working):
                result["front_running"].append(f"{c['event_id'][p]} before {c['event_id'][o]}")
            lag = int(c["t"][p]) - last_exec.get(oid, -(10**20))
            if c["actor"][p] in handled[oid] and 0 <= lag <= 300 * NS:
                result["copy_trading"].append(f"{c['event_id'][p]} after {oid}")
        if c["qty"][p] * c["price"][p] > 100_000:
            result["large_personal_trade"].append(c["event_id"][p])


def _wash_trading(c: Columns, firm: FirmConfig, result: Findings) -> None:
    """Opposite-side trades (executions and personal trades) of two accounts of one beneficial owner."""
    trades = np.flatnonzero((c["kind"] == "execution") | (c["kind"] == "personal_trade"))
    owner = {a: acc.beneficial_owner for a, acc in firm.accounts().items()}
    for symbol in set(c["symbol"][trades]):
        e = trades[c["symbol"][trades] == symbol]
        t, q = c["t"][e].astype(np.int64), c["qty"][e].astype(float)
        side, account = c["side"][e], c["account"][e]
        bo = np.array([owner.get(a, a) for a in account], dtype=object)
        pairs = (
            (side[:, None] != side[None, :])
            & (np.abs(t[:, None] - t[None, :]) <= 60 * NS)
            & (np.abs(q[:, None] - q[None, :]) <= 0.10 * np.maximum(q[:, None], q[None, :]))
            & (bo[:, None] == bo[None, :])
            & (account[:, None] != account[None, :])
        )
        for a, b in zip(*np.nonzero(np.triu(pairs)), strict=True):
            result["wash_trading"].append(f"{c['event_id'][e[a]]} / {c['event_id'][e[b]]}")


def _access(c: Columns, firm: FirmConfig, result: Findings) -> None:
    """After-hours views, unapproved venues, query volume and bulk exports."""
    kind = c["kind"]
    views = np.flatnonzero(kind == "order_view")
    hours = firm.business_hours
    for v in views:
        local = dt.datetime.fromtimestamp(int(c["t"][v]) / NS, tz=ZoneInfo("UTC")).astimezone(hours.zone)
        if not (hours.start <= local.time() < hours.end) or local.weekday() not in hours.weekdays:
            result["after_hours"].append(c["event_id"][v])

    approved = firm.approved_venues()
    for i in np.flatnonzero(np.isin(kind, ["execution", "client_order", "route_change"])):
        if c["venue"][i] is not None and c["venue"][i] not in approved:
            result["venue_not_approved"].append(c["event_id"][i])

    per_pair: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for i in np.flatnonzero(np.isin(kind, ["order_view", "data_export"])):
        if c["account"][i] is not None:
            per_pair[(c["actor"][i], c["account"][i])].append((int(c["t"][i]), int(c["records"][i])))
    for pair, touches in per_pair.items():
        touches.sort()
        for k, (start, _) in enumerate(touches):
            total = sum(r for t, r in touches[k:] if t - start <= 3600 * NS)
            if total > 20:
                result["query_volume"].append(f"{pair} from {start}")
                break

    for i in np.flatnonzero(kind == "data_export"):
        if c["records"][i] > 1000:
            result["bulk_export"].append(c["event_id"][i])


def _structuring(c: Columns, firm: FirmConfig, result: Findings) -> None:
    """Three or more orders of one trader, client and instrument side, each at most the four-eyes
    threshold, within 600 s and above it together (the simulated day repeats no order id)."""
    threshold = firm.controls.large_order_notional
    owner = {a: acc.beneficial_owner for a, acc in firm.accounts().items()}
    keyed: dict[tuple[str, str, str, str], list[tuple[int, float, str]]] = defaultdict(list)
    for i in np.flatnonzero(c["kind"] == "client_order"):
        notional = float(c["qty"][i]) * float(c["price"][i])
        if notional <= threshold:
            key = (c["actor"][i], owner.get(c["account"][i], c["account"][i]), c["symbol"][i], c["side"][i])
            keyed[key].append((int(c["t"][i]), notional, c["event_id"][i]))
    for orders in keyed.values():
        for t, _, event_id in orders:
            window = [v for u, v, _ in orders if t - 600 * NS <= u <= t]
            if len(window) >= 3 and sum(window) > threshold:
                result["structuring"].append(event_id)
