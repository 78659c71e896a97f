"""large_personal_trade: a personal trade whose notional (qty x price) is above the limit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler


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

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return {EventKind.PERSONAL_TRADE: self._personal_trade}

    def _personal_trade(self, event: Event) -> Sequence[Alert]:
        if event.qty is None or event.price is None or not event.qty * event.price > self.limit:
            return NO_ALERTS
        side = event.side.value if event.side else "?"
        return (
            self.alert(
                actor=event.actor,
                symbol=event.symbol,
                ts=event.ts,
                event_ids=(event.event_id,),
                explanation=_explain(
                    event.actor, side, event.qty, event.symbol or "?", price=event.price, limit=self.limit
                ),
            ),
        )

    def scan(self, day: DayColumns) -> list[Alert]:
        trades = day.rows(EventKind.PERSONAL_TRADE)
        prices = day.price_at(trades)
        large = day.qty[trades] * prices > self.limit
        pos, prices = trades[large], prices[large]
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
                    price=float(prices[i]),
                    limit=self.limit,
                ),
            )
            for i, p in enumerate(pos.tolist())
        ]
