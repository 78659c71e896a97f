"""The stored reference prices (table ``reference_prices``): per symbol the latest fill and the latest
market price (feed, file), each the latest of its kind.

A write keeps, per symbol and kind, the observation with the later ``ts``: a late, older price (a delayed
feed message, yesterday's end-of-day file after today's fills) changes nothing. A stored price dated
more than ``MAX_AHEAD_NS`` ahead of the write's time is a wrong date, not a later price: any write
replaces it (else a typo'd year would win for ever). A batch is one transaction, so a file or feed
batch is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from orderguard.gateway.control_notional import MAX_AHEAD_NS
from orderguard.gateway.reference_prices import FILL_SOURCE, PriceUpdate
from orderguard.storage.engine import write_turn
from orderguard.storage.reference_tables import reference_prices as table


def latest_per_symbol(updates: Iterable[PriceUpdate]) -> list[PriceUpdate]:
    """One update per symbol and kind, the latest (the last given, on a tie): a batch may repeat one."""
    kept: dict[tuple[str, str], PriceUpdate] = {}
    for update in updates:
        key = (update.symbol, update.kind)
        held = kept.get(key)
        if held is None or held.ts <= update.ts:
            kept[key] = update
    return list(kept.values())


class SqlReferenceStore:
    """Latest reference prices on a migrated database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
        insert = dialect.insert(table)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[table.c.symbol, table.c.kind],
            set_={c: insert.excluded[c] for c in ("price", "ts", "source", "recorded_ns")},
            where=or_(
                insert.excluded.ts >= table.c.ts, table.c.ts > insert.excluded.recorded_ns + MAX_AHEAD_NS
            ),
        )

    def latest(self, symbol: str) -> tuple[PriceUpdate | None, PriceUpdate | None]:
        """(latest fill, latest market price) stored for ``symbol``."""
        query = select(table.c.price, table.c.ts, table.c.source).where(table.c.symbol == symbol)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        fill = market = None
        for row in rows:
            update = PriceUpdate(symbol, float(row.price), int(row.ts), str(row.source))
            if update.kind == FILL_SOURCE:
                fill = update
            else:
                market = update
        return fill, market

    def all(self) -> list[PriceUpdate]:
        """Every stored price, by symbol (fill before market)."""
        columns = (table.c.symbol, table.c.price, table.c.ts, table.c.source)
        query = select(*columns).order_by(table.c.symbol, table.c.kind)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PriceUpdate(str(r.symbol), float(r.price), int(r.ts), str(r.source)) for r in rows]

    def record(self, updates: Iterable[PriceUpdate], now_ns: int) -> None:
        """Store ``updates`` in one transaction, keeping per symbol the later of stored and given."""
        rows = [
            {
                "symbol": u.symbol,
                "kind": u.kind,
                "price": u.price,
                "ts": u.ts,
                "source": u.source,
                "recorded_ns": now_ns,
            }
            for u in latest_per_symbol(updates)
        ]
        if not rows:
            return
        with write_turn(self.engine), self.engine.begin() as conn:
            conn.execute(self._upsert, rows)


def reference_reader(url: str | None) -> SqlReferenceStore | None:
    """The connector's own reader of ``url``'s stored prices (it only reads); None without a URL.

    A PostgreSQL deployment gives the connector a role with SELECT on reference_prices only.
    """
    if url is None:
        return None
    from orderguard.storage import make_engine

    return SqlReferenceStore(make_engine(url))
