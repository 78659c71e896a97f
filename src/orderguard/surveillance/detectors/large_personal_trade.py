"""large_personal_trade: a personal trade whose notional (qty x price) is above the limit."""

from __future__ import annotations

from typing import ClassVar

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.detector import Detector


def _explain(actor: str, side: str, qty: float, symbol: str, *, price: float, limit: float) -> str:
    return (
        f"{actor} made a personal {side} of {qty:g} {symbol} at {price:g}: notional "
        f"${qty * price:,.2f} is above the ${limit:,.0f} limit."
    )


class LargePersonalTrade(Detector):
    rule: ClassVar[str] = "large_personal_trade"
    description: ClassVar[str] = "A personal trade with notional above the firm's limit."
    kinds: ClassVar[frozenset[EventKind]] = frozenset({EventKind.PERSONAL_TRADE})

    @property
    def limit(self) -> float:
        return self.ctx.detectors.large_personal_trade.notional_threshold

    def observe(self, event: Event) -> list[Alert]:
        if event.kind is not EventKind.PERSONAL_TRADE or event.qty is None or event.price is None:
            return []
        if not event.qty * event.price > self.limit:
            return []
        side = event.side.value if event.side else "?"
        return [
            self.alert(
                actor=event.actor,
                symbol=event.symbol,
                ts=event.ts,
                event_ids=(event.event_id,),
                explanation=_explain(
                    event.actor, side, event.qty, event.symbol or "?", price=event.price, limit=self.limit
                ),
            )
        ]

    def scan(self, day: DayColumns) -> list[Alert]:
        trades = day.rows(EventKind.PERSONAL_TRADE)
        pos = trades[day.qty[trades] * day.price[trades] > self.limit]
        ids, actors = day.event_ids(pos), day.strings("actor", pos)
        symbols, sides = day.strings("symbol", pos), day.strings("side", pos)
        return [
            self.alert(
                actor=actors[i] or "",
                symbol=symbols[i],
                ts=int(day.ts[p]),
                event_ids=(ids[i],),
                explanation=_explain(
                    actors[i] or "",
                    sides[i] or "?",
                    float(day.qty[p]),
                    symbols[i] or "?",
                    price=float(day.price[p]),
                    limit=self.limit,
                ),
            )
            for i, p in enumerate(pos.tolist())
        ]
