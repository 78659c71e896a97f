"""Client orders and their life: partial fills at approved venues, cancels, route changes.

Every order ends on the day: it is either filled in full or cancelled (after any partial fills), so
"working" has a defined end. The side of an order is a function of (covering trader, symbol): accounts
of one beneficial owner share a trader, so executions of one owner or one trader in a symbol are never on
opposite sides (no accidental wash trades).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orderguard.domain.events import EventKind
from orderguard.sim._bursts import BurstLimit, limit_prices, spread_bursts
from orderguard.sim._market import MINUTE, NS, DayClock, PricePaths
from orderguard.sim._parts import Part
from orderguard.sim.population import Population

MAX_FILLS = 7
KIND_CODES = {kind: i for i, kind in enumerate(EventKind)}


@dataclass(frozen=True)
class OrderBook:
    """Per-order facts other generators need: who, what, and when the order stopped working."""

    account: np.ndarray
    trader: np.ndarray
    symbol: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items grouped by owner, ``counts`` per owner: each item's owner and its position in its group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


def _fill_counts(rng: np.random.Generator, orders: int, fills: int, cancelled: np.ndarray) -> np.ndarray:
    """One fill for every order that is not cancelled; the rest spread at random, at most MAX_FILLS each."""
    counts = (~cancelled).astype(np.int64)
    extra = fills - int(counts.sum())
    if extra < 0:
        raise ValueError("too few executions for the orders that must complete")
    counts += np.bincount(rng.integers(0, orders, extra), minlength=orders)
    overflow = int(np.maximum(counts - MAX_FILLS, 0).sum())
    counts = np.minimum(counts, MAX_FILLS)
    if overflow:
        room = np.flatnonzero(counts < MAX_FILLS)[:overflow]
        counts[room] += 1
    return counts


def generate_orders(
    rng: np.random.Generator,
    *,
    orders: int,
    fills: int,
    cancels: int,
    routes: int,
    pop: Population,
    weights: np.ndarray,
    clock: DayClock,
    prices: PricePaths,
    venues: int,
    burst_limit: BurstLimit | None = None,
) -> tuple[list[Part], OrderBook]:
    """Client orders, executions, cancels and route changes, with the book of when each order worked.

    With ``burst_limit``, no trader's orders in a symbol form a structuring burst (sim/_bursts.py).
    """
    n_symbols = len(weights)
    activity = rng.lognormal(0.0, 1.0, pop.client_count)
    account = rng.choice(pop.client_count, orders, p=activity / activity.sum())
    trader = pop.coverage[account]
    symbol = rng.choice(n_symbols, orders, p=weights)
    side_of = rng.integers(0, 2, (len(pop.employees), n_symbols), dtype=np.int8)
    span = clock.close_ns - clock.open_ns - 15 * MINUTE
    start = clock.open_ns + NS + (rng.beta(0.55, 0.55, orders) * span).astype(np.int64)
    qty = 100.0 * np.minimum(np.ceil(rng.lognormal(1.0, 1.1, orders)), 500)
    spread = rng.uniform(0, 0.003, orders)
    if burst_limit is None:
        side = side_of[trader, symbol].astype(np.int64)
        limit = limit_prices(prices.at(symbol, start), side, spread)
    else:
        symbol, side, limit = spread_bursts(
            burst_limit,
            start=start,
            trader=trader,
            owner=pop.client_owner[account],
            symbol=symbol,
            qty=qty,
            spread=spread,
            side_of=side_of,
            prices=prices,
        )
    order_venue = rng.integers(0, venues, orders)

    cancelled = np.zeros(orders, dtype=bool)
    cancelled[rng.choice(orders, cancels, replace=False)] = True
    counts = _fill_counts(rng, orders, fills, cancelled)
    owner, position = _group_offsets(counts)
    weight = rng.uniform(0.8, 1.2, len(owner))
    cum_weight = np.cumsum(weight)
    first_item = (np.cumsum(counts) - counts)[owner]
    group_before = (cum_weight - weight)[first_item]
    total_weight = np.bincount(owner, weight, minlength=orders)[owner]
    share = np.where(cancelled, rng.uniform(0.3, 0.9, orders), 1.0)[owner]
    boundary = np.floor((cum_weight - group_before) / total_weight * share * qty[owner])
    last = position == counts[owner] - 1
    boundary = np.where(last & ~cancelled[owner], qty[owner], boundary)
    previous = np.where(position == 0, 0.0, np.roll(boundary, 1))
    fill_qty = boundary - previous
    delay = (rng.exponential(8.0, len(owner)) * NS).astype(np.int64) + 1_000_000
    cum_delay = np.cumsum(delay)
    fill_ts = start[owner] + cum_delay - (cum_delay - delay)[first_item]
    fill_price = prices.at(symbol[owner], fill_ts)

    last_fill = np.full(orders, -1, dtype=np.int64)
    np.maximum.at(last_fill, owner, fill_ts)
    done = np.maximum(start, last_fill)
    cancel_orders = np.flatnonzero(cancelled)
    cancel_ts = done[cancel_orders] + (rng.exponential(45.0, cancels) * NS).astype(np.int64) + 1_000_000
    end = done.copy()
    end[cancel_orders] = cancel_ts

    route_orders = rng.integers(0, orders, routes)
    route_ts = start[route_orders] + (rng.uniform(0, 1, routes) * (end - start)[route_orders]).astype(
        np.int64
    )

    parts = [
        Part(
            KIND_CODES[EventKind.CLIENT_ORDER],
            start,
            trader,
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            price=limit,
            venue=order_venue,
            order=np.arange(orders),
        ),
        Part(
            KIND_CODES[EventKind.EXECUTION],
            fill_ts,
            trader[owner],
            account=account[owner],
            symbol=symbol[owner],
            side=side[owner],
            qty=fill_qty,
            price=fill_price,
            venue=rng.integers(0, venues, len(owner)),
            order=owner,
        ),
        Part(
            KIND_CODES[EventKind.ORDER_CANCEL],
            cancel_ts,
            trader[cancel_orders],
            account=account[cancel_orders],
            symbol=symbol[cancel_orders],
            side=side[cancel_orders],
            order=cancel_orders,
        ),
        Part(
            KIND_CODES[EventKind.ROUTE_CHANGE],
            np.maximum(route_ts, start[route_orders] + 1),
            trader[route_orders],
            account=account[route_orders],
            symbol=symbol[route_orders],
            venue=rng.integers(0, venues, routes),
            order=route_orders,
        ),
    ]
    return parts, OrderBook(account, trader, symbol, start, end)
