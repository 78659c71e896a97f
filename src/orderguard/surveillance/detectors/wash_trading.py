"""wash_trading: opposite-side trades in one symbol between two accounts of the same beneficial owner.

Trades are executions and personal trades. A pair (A, B), A before B, alerts
when B.ts - A.ts <= window, the symbol is equal, the sides are opposite, the
accounts differ but share a beneficial owner (two accounts of one employee
share that employee), and |qA - qB| <= tolerance x max(qA, qB).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import numpy as np

from orderguard.domain.alerts import Alert
from orderguard.domain.events import Event, EventKind, Side
from orderguard.surveillance.arrays import opposite_side_pairs
from orderguard.surveillance.columns import KIND_CODE, DayColumns
from orderguard.surveillance.context import seconds_to_ns
from orderguard.surveillance.detector import NO_ALERTS, Detector, StreamHandler

TRADE_KINDS = frozenset({EventKind.EXECUTION, EventKind.PERSONAL_TRADE})
SIDE_AND_OPPOSITE: Final = {Side.BUY: ("buy", "sell"), Side.SELL: ("sell", "buy")}


def _explain(
    owner: str, symbol: str, first: tuple[str, str, float], second: tuple[str, str, float], gap: int
) -> str:
    return (
        f"Accounts {first[0]} ({first[1]} {first[2]:g}) and {second[0]} ({second[1]} {second[2]:g}) "
        f"traded {symbol} on opposite sides {gap / 1e9:.3f} s apart; both belong to {owner}: "
        "possible wash trade."
    )


class WashTrading(Detector):
    rule: ClassVar[str] = "wash_trading"
    description: ClassVar[str] = "Offsetting trades between accounts of the same beneficial owner."
    kinds: ClassVar[frozenset[EventKind]] = TRADE_KINDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.ctx.detectors.wash_trading
        self.window_ns = seconds_to_ns(settings.window_seconds)
        self.tolerance = settings.qty_tolerance
        self._accounts_of: dict[str, set[str]] = {}
        for account, owner in self.ctx.beneficial_owner.items():
            self._accounts_of.setdefault(owner, set()).add(account)
        self._shared: dict[str, bool] = {}
        # account -> its beneficial owner when that owner has another account, else None (a cache).
        self._wash_owner: dict[str, str | None] = {}

    def shares_owner(self, account: str) -> bool:
        """Whether any other account can have this account's beneficial owner (else it cannot wash)."""
        shared = self._shared.get(account)
        if shared is None:
            owner = self.ctx.owner_of(account)
            possible = {account, *self._accounts_of.get(owner, ())}
            if owner.startswith("account:"):  # the owner an unknown account gets
                possible.add(owner.removeprefix("account:"))
            shared = self._shared[account] = len(possible) > 1
        return shared

    def initial_state(self) -> dict[str, Any]:
        # (symbol, owner, side) -> deque[(ts, event_id, account, qty, actor)]
        return {"recent": {}, "swept": 0}

    def bind_state(self) -> None:
        self._recent: dict[tuple[str, str, str], deque[tuple[int, str, str, float, str]]] = self.state[
            "recent"
        ]
        self._stream_state = self.state  # "swept" is an int in it: read and written there

    def stream_handlers(self) -> dict[EventKind, StreamHandler]:
        return dict.fromkeys(TRADE_KINDS, self._trade)

    def _trade(self, event: Event) -> Sequence[Alert]:
        account = event.account
        if account is None:
            return NO_ALERTS
        # Most trades are in accounts whose owner has no other account: one lookup decides them.
        owner = self._wash_owner.get(account)
        if owner is None:
            if account in self._wash_owner:
                return NO_ALERTS
            owner = self.ctx.owner_of(account) if self.shares_owner(account) else None
            self._wash_owner[account] = owner
            if owner is None:
                return NO_ALERTS
        symbol, qty = event.symbol, event.qty
        if symbol is None or event.side is None or qty is None:
            return NO_ALERTS
        recent = self._recent
        ts = event.ts
        horizon = ts - self.window_ns
        if ts - self._stream_state["swept"] > self.window_ns:
            for key in list(recent):
                while recent[key] and recent[key][0][0] < horizon:
                    recent[key].popleft()
                if not recent[key]:
                    del recent[key]
            self._stream_state["swept"] = ts
        side, opposite = SIDE_AND_OPPOSITE[event.side]
        alerts = NO_ALERTS
        tolerance = self.tolerance
        for a_ts, a_id, a_account, a_qty, _a_actor in recent.get((symbol, owner, opposite), ()):
            # |qA - qB| <= tolerance x max(qA, qB), without a call per candidate
            if (
                a_ts >= horizon
                and a_account != account
                and abs(a_qty - qty) <= tolerance * (a_qty if a_qty > qty else qty)
            ):
                alerts += (
                    self.alert(
                        actor=event.actor,
                        symbol=symbol,
                        ts=ts,
                        event_ids=(a_id, event.event_id),
                        explanation=_explain(
                            owner,
                            symbol,
                            (a_account, opposite, a_qty),
                            (account, side, qty),
                            ts - a_ts,
                        ),
                    ),
                )
        own = recent.get((symbol, owner, side))
        if own is None:  # not setdefault: that would build a deque for every trade
            own = recent[symbol, owner, side] = deque()
        own.append((ts, event.event_id, account, qty, event.actor))
        return alerts

    def scan(self, day: DayColumns) -> list[Alert]:
        kind = day.kind
        pos = np.flatnonzero(
            (kind == KIND_CODE[EventKind.EXECUTION]) | (kind == KIND_CODE[EventKind.PERSONAL_TRADE])
        )
        symbol, account = day.coded("symbol"), day.coded("account")
        owner_codes: dict[str, int] = {}
        account_owner = np.array(
            [owner_codes.setdefault(self.ctx.owner_of(a), len(owner_codes)) for a in account.values] + [-1],
            dtype=np.int64,
        )
        # Only an owner with two or more accounts can wash-trade; most rows drop out here.
        shared = np.append(np.bincount(account_owner[:-1], minlength=len(owner_codes)) >= 2, False)
        owner = account_owner[account.codes[pos]]
        ok = shared[owner] & (symbol.codes[pos] >= 0) & (day.side[pos] >= 0) & ~np.isnan(day.qty[pos])
        pos, owner = pos[ok].astype(np.int64), owner[ok]
        group = symbol.codes[pos].astype(np.int64) * max(len(owner_codes), 1) + owner
        ts = day.ts[pos]  # window starts searched among these rows alone: a haystack far smaller than the day
        first = np.asarray(np.searchsorted(ts, ts - self.window_ns, side="left"), dtype=np.int64)
        a, b = opposite_side_pairs(pos, group, day.side[pos], first)
        qa, qb = day.qty[a], day.qty[b]
        keep = (account.codes[a] != account.codes[b]) & (
            np.abs(qa - qb) <= self.tolerance * np.maximum(qa, qb)
        )
        a, b = a[keep], b[keep]
        a_ids, b_ids = day.event_ids(a), day.event_ids(b)
        actors, symbols = day.strings("actor", b), day.strings("symbol", b)
        a_acc, b_acc = day.strings("account", a), day.strings("account", b)
        a_side, b_side = day.strings("side", a), day.strings("side", b)
        alerts = []
        for i in range(len(a)):
            ai, bi = int(a[i]), int(b[i])
            alerts.append(
                self.alert(
                    actor=actors[i] or "",
                    symbol=symbols[i],
                    ts=int(day.ts[bi]),
                    event_ids=(a_ids[i], b_ids[i]),
                    explanation=_explain(
                        self.ctx.owner_of(b_acc[i] or ""),
                        symbols[i] or "",
                        (a_acc[i] or "", a_side[i] or "", float(day.qty[ai])),
                        (b_acc[i] or "", b_side[i] or "", float(day.qty[bi])),
                        int(day.ts[bi] - day.ts[ai]),
                    ),
                )
            )
        return alerts
