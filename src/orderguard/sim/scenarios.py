"""Planted insider abuse, one scenario per detector, with near misses, on top of a clean simulated day.

``plant(day)`` adds the abuse and the near misses of the issue (a personal
trade 61 s before the client order, the opposite side, a client order only
50x larger, a view at 21:59, a heavy but habitual reader, ...) and returns
the labels. ``plant_history(day)`` adds the habits of the day before (the
habitual reader and exporter), so that baselines exist when the labelled
day is scanned after it. Planted instruments (``ZZ...``) never occur in the
base day, so planted events cannot meet base events by accident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from orderguard.domain.events import EventKind
from orderguard.sim._planter import SECOND, PlantedDay, Planter, planted_firm
from orderguard.sim.day import SimDay

Planned = tuple[int, str, float, str]  # a planted order: (seconds after the start, side, qty, account)

__all__ = [
    "PlantedDay",
    "plant",
    "plant_history",
    "plant_labelled",
    "plant_with_history",
    "previous_business_day",
]


def _habits(p: Planter) -> None:
    """A heavy but habitual reader (olga) and a habitual large exporter (walt), every day."""
    for hour in range(9, 17):
        for minute in range(0, 60, 10):
            p.view(p.at(hour, minute, 7), "olga", "C-PENSION-1", 8)
    for hour in (10, 13, 15):
        p.add(EventKind.DATA_EXPORT, p.at(hour, 5), "walt", records=3_000)


def plant_history(day: SimDay) -> PlantedDay:
    """The day before the labelled day: base events plus everyday habits (no labels)."""
    p = Planter(day)
    _habits(p)
    return p.result(planted_firm(day.firm))


def plant(day: SimDay) -> PlantedDay:
    """The labelled day: base events, habits, every detector's abuse and the issue's near misses."""
    p = Planter(day)
    _habits(p)
    _front_running(p)
    _copy_trading(p)
    _wash_trading(p)
    _personal_and_route(p)
    _after_hours(p)
    _volume(p)
    _structuring(p)
    return p.result(planted_firm(day.firm))


def _front_running(p: Planter) -> None:
    acct = "C-PENSION-1"
    # Pattern 1: a personal trade 30 s before a client order 500x larger.
    t = p.at(11, 0)
    pt = p.personal(t, "alice", "PA-alice", "ZZFRA", side="buy", qty=10)
    co = p.order(t + 30 * SECOND, "bob", "FR-1", "ZZFRA", side="buy", qty=5_000, account=acct)
    p.fill(t + 90 * SECOND, "FR-1", "ZZFRA", side="buy", qty=5_000, account=acct)
    p.label("front_running_before", "front_running", co, pt)
    # The insider sees the order before execution: an option on the underlying while the order works.
    t = p.at(11, 10)
    co = p.order(t, "bob", "FR-2", "ZZREL", side="buy", qty=10_000, account=acct)
    p.fill(t + 10 * SECOND, "FR-2", "ZZREL", side="buy", qty=2_000, account=acct)
    pt = p.personal(t + 100 * SECOND, "tom", "PA-tom", "ZZREL-OPT", side="buy", qty=20)
    p.fill(t + 200 * SECOND, "FR-2", "ZZREL", side="buy", qty=8_000, account=acct)
    p.label("front_running_working_related", "front_running", pt, co)
    # Near misses: 61 s before; the opposite side; only 50x larger; after the order was filled.
    for n, (symbol, lead, p_side, p_qty) in enumerate(
        (("ZZFRB", 61, "buy", 10), ("ZZFRC", 30, "sell", 10), ("ZZFRD", 30, "buy", 100)), start=3
    ):
        t = p.at(11, 20 + 5 * n)
        pt = p.personal(t, "alice", "PA-alice", symbol, side=p_side, qty=p_qty)
        co = p.order(t + lead * SECOND, "bob", f"FR-{n}", symbol, side="buy", qty=5_000, account=acct)
        p.fill(t + lead * SECOND + 20 * SECOND, f"FR-{n}", symbol, side="buy", qty=5_000, account=acct)
        p.label(f"front_running_near_miss_{symbol}", "front_running", co, pt, expect="none")
    t = p.at(11, 50)
    co = p.order(t, "bob", "FR-6", "ZZFRE", side="buy", qty=5_000, account=acct)
    p.fill(t + 10 * SECOND, "FR-6", "ZZFRE", side="buy", qty=5_000, account=acct)
    pt = p.personal(t + 11 * SECOND, "tom", "PA-tom", "ZZFRE", side="buy", qty=10)
    p.label("front_running_near_miss_after_fill", "front_running", pt, co, expect="none")


def _copy_trading(p: Planter) -> None:
    acct = "C-FAMILY-1"
    # bob handles a client order, then copies it two minutes after it fills.
    t = p.at(12, 0)
    co = p.order(t, "bob", "CT-1", "ZZCPA", side="buy", qty=3_000, account=acct)
    ex = p.fill(t + 60 * SECOND, "CT-1", "ZZCPA", side="buy", qty=3_000, account=acct)
    pt = p.personal(t + 180 * SECOND, "bob", "PA-bob", "ZZCPA", side="buy", qty=50)
    p.label("copy_trading_handled", "copy_trading", pt, co, ex)
    # alice only viewed the order, and copies it 200 s after its last execution.
    t = p.at(12, 10)
    co = p.order(t, "tom", "CT-2", "ZZCPB", side="sell", qty=4_000, account=acct)
    vw = p.view(t + 20 * SECOND, "alice", acct, 1, oid="CT-2")
    p.fill(t + 40 * SECOND, "CT-2", "ZZCPB", side="sell", qty=1_000, account=acct)
    ex = p.fill(t + 60 * SECOND, "CT-2", "ZZCPB", side="sell", qty=3_000, account=acct)
    pt = p.personal(t + 260 * SECOND, "alice", "PA-alice", "ZZCPB", side="sell", qty=40)
    p.label("copy_trading_viewed", "copy_trading", pt, co, vw, ex)
    # Near miss: the viewer trades 301 s after the last execution.
    t = p.at(12, 20)
    co = p.order(t, "tom", "CT-3", "ZZCPC", side="buy", qty=4_000, account=acct)
    vw = p.view(t + 20 * SECOND, "alice", acct, 1, oid="CT-3")
    ex = p.fill(t + 60 * SECOND, "CT-3", "ZZCPC", side="buy", qty=4_000, account=acct)
    pt = p.personal(t + 361 * SECOND, "alice", "PA-alice", "ZZCPC", side="buy", qty=40)
    p.label("copy_trading_near_miss_301s", "copy_trading", pt, co, vw, ex, expect="none")


def _wash_trading(p: Planter) -> None:
    # Two client accounts with one beneficial owner (Quartz Holdings) trade against each other.
    t = p.at(13, 0)
    a = p.fill(t, "WT-1", "ZZWSA", side="buy", qty=1_000, account="C-HEDGE-1", actor="bob")
    b = p.fill(t + 30 * SECOND, "WT-2", "ZZWSA", side="sell", qty=1_050, account="C-HEDGE-2", actor="bob")
    p.label("wash_trading_same_owner", "wash_trading", b, a)
    # Two personal accounts of one employee.
    t = p.at(13, 10)
    a = p.personal(t, "tom", "PA-tom", "ZZWSB", side="sell", qty=100)
    b = p.personal(t + 20 * SECOND, "tom", "PA-tom-ira", "ZZWSB", side="buy", qty=95)
    p.label("wash_trading_own_accounts", "wash_trading", b, a)
    # Near misses: quantities 20% apart; 61 s apart.
    t = p.at(13, 20)
    a = p.fill(t, "WT-3", "ZZWSC", side="buy", qty=1_000, account="C-HEDGE-1", actor="bob")
    b = p.fill(t + 30 * SECOND, "WT-4", "ZZWSC", side="sell", qty=1_200, account="C-HEDGE-2", actor="bob")
    p.label("wash_trading_near_miss_qty", "wash_trading", b, a, expect="none")
    t = p.at(13, 30)
    a = p.fill(t, "WT-5", "ZZWSD", side="buy", qty=1_000, account="C-HEDGE-1", actor="bob")
    b = p.fill(t + 61 * SECOND, "WT-6", "ZZWSD", side="sell", qty=1_000, account="C-HEDGE-2", actor="bob")
    p.label("wash_trading_near_miss_61s", "wash_trading", b, a, expect="none")


def _personal_and_route(p: Planter) -> None:
    t = p.at(14, 0)
    big = p.personal(t, "tom", "PA-tom", "ZZLPT", side="buy", qty=2_000, price=100.0)
    p.label("large_personal_trade", "large_personal_trade", big)
    edge = p.personal(t + 60 * SECOND, "alice", "PA-alice", "ZZLPU", side="buy", qty=1_000, price=100.0)
    p.label("large_personal_trade_near_miss_exactly_100k", "large_personal_trade", edge, expect="none")
    t = p.at(14, 30)
    acct = "C-PENSION-1"
    p.order(t, "bob", "UR-1", "ZZURT", side="sell", qty=500, account=acct)
    route = p.add(
        EventKind.ROUTE_CHANGE, t + 5 * SECOND, "bob", symbol="ZZURT", venue="DARK-X", order_id="UR-1"
    )
    fill = p.fill(t + 10 * SECOND, "UR-1", "ZZURT", side="sell", qty=500, account=acct, venue="DARK-X")
    p.label("unusual_route_change", "unusual_route", route)
    p.label("unusual_route_execution", "unusual_route", fill)


def _after_hours(p: Planter) -> None:
    views = [p.view(p.at(22, 20 + 5 * i), "devon", "C-HEDGE-1", 1) for i in range(7)]
    for i, view in enumerate(views):
        severity = "low" if i < 5 else "high"
        p.label(f"after_hours_view_{i + 1}", "after_hours_access", view, severity=severity)
    edge = p.view(p.at(22, 0, 0), "kim", "C-HEDGE-1", 1)
    p.label("after_hours_at_22_00", "after_hours_access", edge, severity="low")
    near = p.view(p.at(21, 59, 0), "erin", "C-HEDGE-1", 1)
    p.label("after_hours_near_miss_21_59", "after_hours_access", near, expect="none")


def _volume(p: Planter) -> None:
    # The seed's pattern 2: 50 client order records at 11 PM.
    late = p.view(p.at(23, 0), "sam", "C-FAMILY-1", 50)
    p.label("query_volume_11pm", "query_volume", late)
    p.label("query_volume_11pm_after_hours", "after_hours_access", late, severity="low")
    # The heavy but habitual reader must stay silent: her views are planted every day by _habits.
    habitual = [e.event_id for e in p.events if e.actor == "olga" and e.kind is EventKind.ORDER_VIEW]
    p.label("query_volume_near_miss_habitual", "query_volume", habitual[-1], *habitual, expect="none")
    export = p.add(EventKind.DATA_EXPORT, p.at(15, 30), "dana", records=50_000)
    p.label("bulk_export", "bulk_export", export)
    habitual_export = p.add(EventKind.DATA_EXPORT, p.at(16, 30), "walt", records=4_000)
    p.label("bulk_export_near_miss_habitual", "bulk_export", habitual_export, expect="none")


def _structuring(p: Planter) -> None:
    """bob's orders at 50.0 a share against the example firm's four-eyes threshold of 1,000,000."""
    pension, hedge1, hedge2 = "C-PENSION-1", "C-HEDGE-1", "C-HEDGE-2"

    def orders(symbol: str, start: int, plan: Sequence[Planned], price: float | None = 50.0) -> list[str]:
        return [
            p.order(
                start + s * SECOND,
                "bob",
                f"{symbol}-{n}",
                symbol,
                side=side,
                qty=qty,
                account=acct,
                price=price,
            )
            for n, (s, side, qty, acct) in enumerate(plan, start=1)
        ]

    # 1.2 M split in four of 300 k, two minutes apart: the fourth order takes the sum above 1 M.
    # A fifth order continues the same burst: no second alert.
    split = orders("ZZSTA", p.at(15, 0), [(120 * n, "buy", 6_000, pension) for n in range(5)])
    p.label("structuring_split_in_four", "structuring", split[3], *split[:4])
    # One owner's two accounts (Quartz Holdings): 3 sells of 350 k.
    accounts = (hedge1, hedge2, hedge1)
    split = orders("ZZSTB", p.at(15, 15), [(60 * n, "sell", 7_000, accounts[n]) for n in range(3)])
    p.label("structuring_across_one_owners_accounts", "structuring", split[2], *split)
    # Near misses: two orders only; exactly 1 M in three; the third order 601 s after the first;
    # a sell between two buys; a large order (approved) beside two small ones; orders without a price.
    near: dict[str, list[Planned]] = {
        "ZZSTC": [(0, "buy", 12_000, pension), (60, "buy", 12_000, pension)],
        "ZZSTD": [(0, "buy", 6_000, pension), (60, "buy", 6_000, pension), (120, "buy", 8_000, pension)],
        "ZZSTE": [(0, "buy", 8_000, pension), (300, "buy", 8_000, pension), (601, "buy", 8_000, pension)],
        "ZZSTF": [(0, "buy", 8_000, pension), (60, "sell", 8_000, pension), (120, "buy", 8_000, pension)],
        "ZZSTG": [(0, "buy", 30_000, pension), (60, "buy", 2_000, pension), (120, "buy", 2_000, pension)],
    }
    for n, (symbol, plan) in enumerate(near.items()):
        ids = orders(symbol, p.at(15, 30 + 5 * n), plan)
        p.label(f"structuring_near_miss_{symbol}", "structuring", ids[-1], *ids, expect="none")
    ids = orders("ZZSTH", p.at(16, 0), [(60 * n, "buy", 8_000, pension) for n in range(3)], price=None)
    p.label("structuring_near_miss_no_price", "structuring", ids[-1], *ids, expect="none")


def previous_business_day(day: SimDay) -> dt.date:
    """The firm's business day before ``day`` (the history day)."""
    weekdays = day.firm.business_hours.weekdays
    before = day.date - dt.timedelta(days=1)
    while before.weekday() not in weekdays:
        before -= dt.timedelta(days=1)
    return before


def plant_with_history(day: SimDay, history: SimDay) -> tuple[PlantedDay, PlantedDay]:
    """(history day with habits, labelled day with abuse); the labelled day's seq follows the history's."""
    before, labelled = plant_history(history), plant(day)
    offset = before.table.num_rows
    seq = pa.array(labelled.table.column("seq").to_numpy() + offset)
    table = labelled.table.set_column(0, labelled.table.schema.field("seq"), seq)
    return before, PlantedDay(table, labelled.firm, labelled.labels)


def plant_labelled(day: SimDay, out: Path, ext: str) -> SimDay:
    """For ``orderguard sim --labels``: write DIR/history.<ext> and DIR/labels.jsonl; return the planted day.

    The history day (the business day before, same firm and seed) carries the
    everyday habits that baselines learn from; scan it before the day itself.
    """
    from orderguard.ingest.writer import write_events
    from orderguard.sim.day import generate_day
    from orderguard.sim.labels import write_labels

    history = generate_day(
        events=day.table.num_rows, seed=day.seed, date=previous_business_day(day), firm=day.firm
    )
    before, labelled = plant_with_history(day, history)
    write_events(before.table, out / f"history.{ext}")
    write_labels(out / "labels.jsonl", labelled.labels)
    return replace(day, table=labelled.table, firm=labelled.firm)
