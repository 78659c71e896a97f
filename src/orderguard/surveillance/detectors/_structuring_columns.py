"""structuring's columns for the batch engine: amends, the four-eyes notional, the key, window starts."""

from __future__ import annotations

import numpy as np

from orderguard.surveillance.columns import F64, I32, I64, DayColumns, dense_unique
from orderguard.surveillance.context import SurveillanceContext


def replaced_positions(day: DayColumns, pos: I64) -> I64:
    """Per client order: the position of the next client order with the same order id, else day.n."""
    oid = day.coded("order_id").codes[pos].astype(np.int64)
    result = np.full(len(pos), day.n, dtype=np.int64)
    seen = np.bincount(oid[oid >= 0], minlength=1)
    has = np.flatnonzero(oid >= 0)
    has = has[seen[oid[has]] > 1]  # only ids given to two or more client orders can be amended
    by_id = has[np.argsort(oid[has], kind="stable")]  # (order id, position) order
    same = np.flatnonzero(oid[by_id[1:]] == oid[by_id[:-1]])
    result[by_id[same]] = pos[by_id[same + 1]]
    return result


def control_notionals(day: DayColumns, pos: I64, reference: dict[str, float]) -> F64:
    """qty x the price four-eyes uses, NaN where it cannot be valued (Structuring.control_price)."""
    price = day.price_at(pos)
    symbols = day.coded("symbol")
    known = np.array([reference.get(s, np.nan) for s in symbols.values] + [np.nan], dtype=np.float64)
    at = known[symbols.codes[pos]]
    use_reference = np.isnan(price) | ((day.side[pos] == 1) & (at > price))  # 1: a SELL
    return np.asarray(day.qty[pos] * np.where(use_reference, at, price), dtype=np.float64)


def owner_keys(day: DayColumns, ctx: SurveillanceContext, actor: I32, account: I32, symbol: I32) -> I64:
    """Dense codes of (actor, beneficial owner of the account, symbol); every code given is >= 0."""
    owners: dict[str, int] = {}
    owner_of = np.array(
        [owners.setdefault(ctx.owner_of(a), len(owners)) for a in day.coded("account").values], dtype=np.int64
    )
    _, key = dense_unique(actor.astype(np.int64) * max(len(owners), 1) + owner_of[account])
    _, key = dense_unique(key * max(len(day.coded("symbol")), 1) + symbol)
    return key


def window_starts(run: I64, since_start: I64, window_ns: int) -> I64:
    """Per row (grouped by run, time since its run's start non-decreasing): the index of the first row
    of its run at most window_ns earlier. One search over (run rank, time) keys when they fit 62 bits."""
    rank = np.zeros(len(run), dtype=np.int64)
    np.cumsum(run[1:] != run[:-1], out=rank[1:])
    span = int(since_start.max()) + 1
    if (int(rank[-1]) + 1) * span < 1 << 62:
        keys = rank * span + since_start
        return np.asarray(np.searchsorted(keys, rank * span + np.maximum(since_start - window_ns, 0)))
    first = np.empty(len(run), dtype=np.int64)
    bounds = np.r_[0, np.flatnonzero(rank[1:] != rank[:-1]) + 1, len(run)]
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        part = since_start[lo:hi]
        first[lo:hi] = lo + np.searchsorted(part, part - window_ns)
    return first
