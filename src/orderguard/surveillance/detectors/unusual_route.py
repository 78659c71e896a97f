"""unusual_route: a client order, execution or route change at a venue not on the allowlist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind
from orderguard.surveillance.columns import DayColumns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler

ROUTED_KINDS = frozenset({EventKind.CLIENT_ORDER, EventKind.EXECUTION, EventKind.ROUTE_CHANGE})


def _explain(actor: str, kind: str, order_id: str | None, venue: str) -> str:
    what = kind.replace("_", " ") + (f" for order {order_id}" if order_id else "")
    return f"{actor}: {what} went to venue {venue}, which is not on the firm's approved-venue list."


class UnusualRoute(Detector):
    rule: ClassVar[str] = "unusual_route"
    description: ClassVar[str] = "Order flow routed to a venue that is not approved."
    kinds: ClassVar[frozenset[EventKind]] = ROUTED_KINDS

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return dict.fromkeys(ROUTED_KINDS, self._routed)

    def _routed(self, event: Event) -> Sequence[Alert]:
        venue = event.venue
        if venue is None or venue in self.ctx.approved_venues:
            return NO_ALERTS
        return (
            self.alert(
                actor=event.actor,
                symbol=event.symbol,
                ts=event.ts,
                event_ids=(event.event_id,),
                explanation=_explain(event.actor, event.kind.value, event.order_id, venue),
            ),
        )

    def scan(self, day: DayColumns) -> list[Alert]:
        venue = day.coded("venue")
        unapproved = np.array([v not in self.ctx.approved_venues for v in venue.values] + [False])
        routed = day.is_kind(EventKind.CLIENT_ORDER) | day.is_kind(EventKind.EXECUTION)
        routed |= day.is_kind(EventKind.ROUTE_CHANGE)
        # Code -1 (no venue) indexes the trailing False.
        pos = np.flatnonzero(routed & unapproved[venue.codes]).astype(np.int64)
        ids, actors = day.event_ids(pos), day.strings("actor", pos)
        symbols, kinds, orders = (
            day.strings("symbol", pos),
            day.strings("kind", pos),
            day.strings("order_id", pos),
        )
        return [
            self.alert(
                actor=actors[i] or "",
                symbol=symbols[i],
                ts=int(day.ts[p]),
                event_ids=(ids[i],),
                explanation=_explain(
                    actors[i] or "", kinds[i] or "", orders[i], venue.values[venue.codes[p]]
                ),
            )
            for i, p in enumerate(pos.tolist())
        ]
