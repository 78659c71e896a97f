"""Everything around the orders: personal trades, order views, logins and data exports.

Clean by construction against the surveillance rules (docs/event-format.md, "Synthetic data"):
personal trades fall only in quiet windows of their symbol (no client order starts within 10 minutes
and none is working), are small, and views are spread so that no (viewer, account) pair touches more
than 20 records in any hour.
"""

from __future__ import annotations

import numpy as np

from orderguard.domain.events import EventKind
from orderguard.sim._market import MINUTE, DayClock, PricePaths
from orderguard.sim._orders import KIND_CODES, OrderBook
from orderguard.sim._parts import Part
from orderguard.sim.population import Population

QUIET_MARGIN = 10 * MINUTE  # personal trades keep this far from any client order of their symbol
PERSONAL_NOTIONAL_CAP = 50_000.0  # half the large-personal-trade threshold
MAX_HOURLY_RECORDS = 20  # the query-volume floor: no (viewer, account) pair goes above it in any hour
SLOT_MINUTES = (60, 30, 20, 15, 10)  # view slot lengths tried in turn until the pairs have room
MAX_EXPORT_RECORDS = 800  # below the bulk-export floor of 1,000
EDGE = 5 * MINUTE  # keep office activity this far inside business hours


class QuietWindows:
    """Per symbol, the merged intervals [start - margin, end + margin] of its client orders."""

    def __init__(self, book: OrderBook, origin_ns: int) -> None:
        # Shifting each symbol by its own three-day span lets one sorted array serve every symbol.
        self._span = 3 * 24 * 60 * MINUTE
        self._origin = origin_ns
        offset = book.symbol * self._span - origin_ns
        starts = offset + book.start - QUIET_MARGIN
        ends = offset + book.end + QUIET_MARGIN
        order = np.argsort(starts, kind="stable")
        self._starts = starts[order]
        self._reach = np.maximum.accumulate(ends[order]) if len(order) else ends

    def busy(self, symbol: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """True where a client order of the symbol starts within the margin or is working."""
        point = symbol * self._span - self._origin + ts
        k = np.searchsorted(self._starts, point, side="right") - 1
        return np.asarray((k >= 0) & (self._reach[np.maximum(k, 0)] >= point))


def personal_trades(
    rng: np.random.Generator,
    *,
    count: int,
    pop: Population,
    book: OrderBook,
    clock: DayClock,
    prices: PricePaths,
    n_symbols: int,
) -> Part:
    """Small personal trades by employees on their own accounts, in quiet windows of their symbol.

    Symbols are drawn uniformly from all ``n_symbols``; the tail of the client universe and the names
    only employees trade (funds, small caps) leave plenty of quiet windows.
    """
    if len(pop.personal_owner) == 0:
        raise ValueError("no employee has a personal account; personal trades need one")
    windows = QuietWindows(book, origin_ns=clock.open_ns - 24 * 60 * MINUTE)
    symbols: list[np.ndarray] = []
    times: list[np.ndarray] = []
    found = 0
    for _ in range(50):
        if found >= count:
            break
        want = 3 * (count - found) + 16
        symbol = rng.integers(0, n_symbols, want)
        ts = rng.integers(clock.open_ns + EDGE, clock.close_ns - EDGE, want)
        keep = ~windows.busy(symbol, ts)
        symbols.append(symbol[keep])
        times.append(ts[keep])
        found += int(keep.sum())
    if found < count:
        raise ValueError("client orders leave no quiet window for personal trades; use more symbols")
    symbol = np.concatenate(symbols)[:count]
    ts = np.concatenate(times)[:count]
    account = rng.integers(0, len(pop.personal_owner), count)
    price = prices.at(symbol, ts)
    qty = np.minimum(rng.integers(1, 301, count), np.maximum(np.floor(PERSONAL_NOTIONAL_CAP / price), 1))
    owner = pop.personal_owner[account]
    # One side per (employee, symbol) for the day: two accounts of one employee never trade against
    # each other, which the wash-trading rule would rightly flag.
    side = ((owner.astype(np.int64) * 2_654_435_761 + symbol.astype(np.int64) * 40_503) >> 7) & 1
    return Part(
        KIND_CODES[EventKind.PERSONAL_TRADE],
        ts,
        owner,
        account=pop.client_count + account,
        symbol=symbol,
        side=side,
        qty=qty.astype(np.float64),
        price=price,
    )


def _view_pairs(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """(viewer, client account) pairs: each trader with their desk's accounts, compliance with all."""
    viewers: list[np.ndarray] = []
    accounts: list[np.ndarray] = []
    for desk in range(len(pop.desks)):
        desk_accounts = np.flatnonzero(pop.account_desk == desk)
        desk_traders = pop.traders[pop.trader_desk == desk]
        viewers.append(np.repeat(desk_traders, len(desk_accounts)))
        accounts.append(np.tile(desk_accounts, len(desk_traders)))
    for officer in pop.compliance:
        viewers.append(np.full(pop.client_count, officer))
        accounts.append(np.arange(pop.client_count))
    return np.concatenate(viewers), np.concatenate(accounts)


def order_views(
    rng: np.random.Generator, count: int, pop: Population, book: OrderBook, clock: DayClock
) -> Part:
    """Views inside business hours, at most one per (viewer, account) per time slot.

    Slots are 60 minutes long when the pairs have room, else shorter; records per view are capped at
    20 / (slots one 60-minute window can touch), so no pair ever exceeds 20 records in an hour.
    """
    viewer, account = _view_pairs(pop)
    first_ns, last_ns = clock.office_start_ns + EDGE, clock.office_end_ns - EDGE
    for minutes in SLOT_MINUTES:
        slot_len = minutes * MINUTE
        slots = int((last_ns - first_ns) // slot_len)
        capacity = len(viewer) * slots
        if capacity >= 1.25 * count:
            break
    if count > capacity:
        raise ValueError(
            f"{count} order views do not fit {len(viewer)} (viewer, account) pairs x {slots} slots; "
            "use a larger firm (orderguard.sim.synthetic_firm)"
        )
    max_records = MAX_HOURLY_RECORDS // (60 // minutes + 1)
    pick = rng.choice(capacity, count, replace=False)
    pair, slot = np.divmod(pick, slots)
    ts = first_ns + slot * slot_len + rng.integers(0, slot_len, count)
    view_account = account[pair]
    by_account = np.argsort(book.account, kind="stable")
    first = np.searchsorted(book.account[by_account], view_account, side="left")
    last = np.searchsorted(book.account[by_account], view_account, side="right")
    has_order = last > first
    choice = first + (rng.random(count) * np.maximum(last - first, 1)).astype(np.int64)
    order = np.where(has_order, by_account[np.minimum(choice, len(by_account) - 1)], -1)
    return Part(
        KIND_CODES[EventKind.ORDER_VIEW],
        ts,
        viewer[pair],
        account=view_account,
        order=order,
        records=np.minimum(rng.geometric(0.45, count), max_records),
    )


def logins(
    rng: np.random.Generator, count: int, pop: Population, clock: DayClock, first_session: int
) -> Part:
    """Logins by any employee across business hours, from the employee's own address."""
    actor = rng.integers(0, len(pop.employees), count)
    ts = rng.integers(clock.office_start_ns + EDGE, clock.office_end_ns - EDGE, count)
    return Part(
        KIND_CODES[EventKind.LOGIN],
        ts,
        actor,
        ip=actor,
        session=first_session + np.arange(count),
    )


def data_exports(
    rng: np.random.Generator, count: int, pop: Population, clock: DayClock, first_session: int
) -> Part:
    """Rare, modest exports by back-office staff inside business hours."""
    pool = pop.back_office if len(pop.back_office) else pop.traders
    actor = pool[rng.integers(0, len(pool), count)]
    ts = rng.integers(clock.office_start_ns + EDGE, clock.office_end_ns - EDGE, count)
    return Part(
        KIND_CODES[EventKind.DATA_EXPORT],
        ts,
        actor,
        records=rng.integers(10, MAX_EXPORT_RECORDS + 1, count),
        ip=actor,
        session=first_session + np.arange(count),
    )
