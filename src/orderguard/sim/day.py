"""generate_day: a seeded, reproducible, plausible trading day of v1 events, clean by construction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orderguard.config import FirmConfig
from orderguard.domain.events import EventKind, Side
from orderguard.ingest.schema import EVENT_SCHEMA, TS_TYPE
from orderguard.sim import _activity, _market
from orderguard.sim._bursts import BurstLimit
from orderguard.sim._orders import generate_orders
from orderguard.sim._parts import Part
from orderguard.sim.population import Population

# Share of each kind in a day; order views take whatever rounding leaves.
EVENT_MIX = {
    EventKind.CLIENT_ORDER: 0.30,
    EventKind.EXECUTION: 0.35,
    EventKind.ORDER_CANCEL: 0.05,
    EventKind.LOGIN: 0.05,
    EventKind.PERSONAL_TRADE: 0.02,
    EventKind.ROUTE_CHANGE: 0.015,
    EventKind.DATA_EXPORT: 0.005,
}
MIN_EVENTS = 100


@dataclass(frozen=True)
class SimDay:
    """One generated day: the events (EVENT_SCHEMA, sorted by ts) and who and what they involve."""

    table: pa.Table
    firm: FirmConfig
    population: Population
    symbols: tuple[str, ...]
    date: dt.date
    seed: int


def symbol_count(events: int) -> int:
    """Enough symbols for a long quiet tail: 150 for small days, 4,000 at 10 million events."""
    return int(np.clip(events // 2_500, 150, 4_000))


def generate_day(*, events: int, seed: int, date: dt.date, firm: FirmConfig) -> SimDay:
    """Exactly ``events`` events of ``date`` for ``firm``; the same arguments give the same table."""
    if events < MIN_EVENTS:
        raise ValueError(f"events must be at least {MIN_EVENTS}, got {events}")
    rng = np.random.default_rng([seed, date.toordinal()])
    pop = Population.of(firm)
    clock = _market.DayClock.of(date, firm)
    excluded = set(firm.controls.restricted_symbols)
    excluded |= {s for related in firm.controls.related_instruments.values() for s in related}
    # Client orders use the first client_symbols names; the rest only ever see personal trades.
    client_symbols = symbol_count(events)
    symbols = _market.symbols(rng, client_symbols + client_symbols // 10, excluded)
    venues = tuple(sorted(firm.approved_venues()))
    if not venues:
        raise ValueError(f"firm {firm.firm!r} approves no venue; executions need one")
    minutes = int(
        (max(clock.office_end_ns, clock.close_ns + 60 * _market.MINUTE) - clock.open_ns) // _market.MINUTE
    )
    prices = _market.PricePaths(rng, len(symbols), clock.open_ns, minutes)
    counts = {kind: round(events * share) for kind, share in EVENT_MIX.items()}
    views = events - sum(counts.values())

    parts, book = generate_orders(
        rng,
        orders=counts[EventKind.CLIENT_ORDER],
        fills=counts[EventKind.EXECUTION],
        cancels=counts[EventKind.ORDER_CANCEL],
        routes=counts[EventKind.ROUTE_CHANGE],
        pop=pop,
        weights=_market.zipf_weights(client_symbols),
        clock=clock,
        prices=prices,
        venues=len(venues),
        burst_limit=BurstLimit.of(firm),
    )
    n_logins = counts[EventKind.LOGIN]
    parts += [
        _activity.personal_trades(
            rng,
            count=counts[EventKind.PERSONAL_TRADE],
            pop=pop,
            book=book,
            clock=clock,
            prices=prices,
            n_symbols=len(symbols),
        ),
        _activity.order_views(rng, views, pop, book, clock),
        _activity.logins(rng, n_logins, pop, clock, first_session=0),
        _activity.data_exports(rng, counts[EventKind.DATA_EXPORT], pop, clock, first_session=n_logins),
    ]
    sessions = _session_ids(rng, n_logins + counts[EventKind.DATA_EXPORT])
    lookups = {
        "actor": pa.array(pop.employees),
        "account": pa.array(pop.accounts),
        "symbol": pa.array(symbols),
        "side": pa.array([s.value for s in Side]),
        "venue": pa.array(venues),
        "order_id": _numbered(f"O{date:%Y%m%d}-", len(book.start), 8),
        "ip": pa.array(
            [f"10.{20 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(len(pop.employees))]
        ),
        "session_id": sessions,
    }
    table = _assemble(parts, lookups, date)
    return SimDay(table, firm, pop, symbols, date, seed)


def _numbered(prefix: str, count: int, width: int) -> pa.Array:
    """prefix + zero-padded running number, built column-wise."""
    numbers = pc.utf8_lpad(pa.array(np.arange(1, count + 1)).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, numbers, "")


def _session_ids(rng: np.random.Generator, count: int) -> pa.Array:
    """Random 16-hex-digit session ids, built as one byte buffer."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nibbles = rng.integers(0, 16, (count, 16), dtype=np.uint8)
    text = digits[nibbles].reshape(-1)
    offsets = pa.array(np.arange(0, 16 * count + 1, 16, dtype=np.int32))
    return pa.StringArray.from_buffers(count, offsets.buffers()[1], pa.py_buffer(text.tobytes()))


def _assemble(parts: list[Part], lookups: dict[str, pa.Array], date: dt.date) -> pa.Table:
    """Concatenate the parts, order them by ts (generation order breaks ties), decode to EVENT_SCHEMA.

    Each part column is released as soon as it is decoded, which keeps the peak memory of a
    10-million-event day near the size of the finished table.
    """
    order = np.argsort(np.concatenate([p.ts for p in parts]), kind="stable")

    def take(name: str) -> np.ndarray:
        values = np.concatenate([getattr(p, name) for p in parts])[order]
        for p in parts:
            setattr(p, name, p.ts[:0])
        return values

    def decode(lookup: str, name: str) -> pa.Array:
        codes = take(name)
        return lookups[lookup].take(pa.array(codes, mask=codes < 0))

    rows = len(order)
    kind_codes = np.concatenate([np.full(len(p), p.kind, dtype=np.int8) for p in parts])[order]
    arrays = {
        "seq": pa.array(np.arange(rows, dtype=np.int64)),
        "event_id": _numbered(f"E{date:%Y%m%d}-", rows, 9),
        "kind": pa.array([k.value for k in EventKind]).take(pa.array(kind_codes)),
    }
    for name in ("actor", "account", "symbol", "side", "venue", "ip"):
        arrays[name] = decode(name, name)
    arrays["order_id"] = decode("order_id", "order")
    arrays["session_id"] = decode("session_id", "session")
    for name in ("qty", "price"):
        values = take(name)
        arrays[name] = pa.array(values, mask=np.isnan(values))
    records = take("records")
    arrays["records"] = pa.array(records, mask=records < 0)
    arrays["ts"] = pa.array(take("ts")).cast(TS_TYPE)
    return pa.Table.from_arrays([arrays[f.name] for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)
