"""No structuring in a clean day: a trader's orders in one symbol never add up past four-eyes in a window.

The structuring detector alerts when one trader's client orders in one symbol
and side (for one beneficial owner), each at most the four-eyes threshold, are
at least ``min_orders`` within the window and sum above the threshold. A random
day makes such bursts by chance (busy clients in popular symbols at the open),
so an order that would complete one goes to the next symbol, in popularity order,
where it completes none. The check is per (beneficial owner, symbol): an owner's
accounts share one covering trader and the side is a function of (trader,
symbol), so this is the detector's key. Orders are valued at their limit (the
simulated firm has no ``[reference_prices]``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from orderguard.config import FirmConfig
from orderguard.sim._market import NS, PricePaths


@dataclass(frozen=True)
class BurstLimit:
    """The structuring rule's bounds, from the firm file."""

    threshold: float
    window_ns: int
    min_orders: int

    @classmethod
    def of(cls, firm: FirmConfig) -> BurstLimit:
        settings = firm.detectors.structuring
        return cls(
            firm.controls.large_order_notional, round(settings.window_seconds * NS), settings.min_orders
        )


def limit_prices(mid: np.ndarray, side: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """A limit a little through the mid: above it for a buy, below for a sell (cents)."""
    return np.asarray(np.round(mid * (1 + np.where(side == 0, 1, -1) * spread), 2))


def spread_bursts(
    limit: BurstLimit,
    *,
    start: np.ndarray,
    trader: np.ndarray,
    owner: np.ndarray,
    symbol: np.ndarray,
    qty: np.ndarray,
    spread: np.ndarray,
    side_of: np.ndarray,
    prices: PricePaths,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(symbol, side, limit price) per order, moving each order that would complete a burst.

    Orders are taken in time order (ties in generation order, as the day's seq has them).
    """
    n_symbols = side_of.shape[1]
    symbol = symbol.copy()
    side = side_of[trader, symbol].astype(np.int64)
    price = limit_prices(prices.at(symbol, start), side, spread)
    notional = (qty * price).tolist()
    starts, owners, drawn = start.tolist(), owner.tolist(), symbol.tolist()
    threshold, window_ns, before = limit.threshold, limit.window_ns, limit.min_orders - 1
    near = threshold * (1 - 1e-6)  # a running sum is only a filter: fsum decides near the threshold
    # (owner, symbol) -> [deque[(ts, notional)] of counted orders, their running sum]
    windows: dict[tuple[int, int], list[Any]] = {}

    def fits(key: tuple[int, int], ts: int, value: float) -> bool:
        """Whether an order fits its key's window without completing a burst (and if so, add it)."""
        if value > threshold:
            return True  # a large order: four-eyes approves it, the detector does not count it
        window = windows.get(key)
        if window is None:
            window = windows[key] = [deque(), 0.0]
        entries: deque[tuple[int, float]] = window[0]
        while entries and entries[0][0] < ts - window_ns:
            window[1] -= entries.popleft()[1]
        if (
            len(entries) < before
            or window[1] + value <= near
            or math.fsum([*(v for _, v in entries), value]) <= threshold
        ):
            entries.append((ts, value))
            window[1] += value
            return True
        return False

    for k in np.argsort(start, kind="stable").tolist():
        if fits((owners[k], drawn[k]), starts[k], notional[k]):
            continue
        for step in range(1, n_symbols):
            candidate = (drawn[k] + step) % n_symbols
            side[k] = side_of[trader[k], candidate]
            price[k] = limit_prices(
                prices.at(np.array([candidate]), start[k : k + 1]), side[k : k + 1], spread[k : k + 1]
            )[0]
            symbol[k] = candidate
            if fits((owners[k], candidate), starts[k], float(qty[k] * price[k])):
                break
    return symbol, side, price
