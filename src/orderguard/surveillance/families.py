"""Vectorised (instrument family, side) group codes, the batch twin of SurveillanceContext.family."""

from __future__ import annotations

import numpy as np

from orderguard.surveillance.columns import BUY, I64, SELL, DayColumns
from orderguard.surveillance.context import SurveillanceContext


def family_side_groups(day: DayColumns, ctx: SurveillanceContext) -> I64:
    """Per row: family code * 2 + side (0 buy, 1 sell); -1 where symbol or side is missing."""
    cached = day.__dict__.get("_family_side")
    if cached is not None:
        result: I64 = cached
        return result
    symbol = day.coded("symbol")
    family_codes: dict[str, int] = {}
    family = np.array([family_codes.setdefault(ctx.family(s), len(family_codes)) for s in symbol.values])
    # One gather from a (symbol code + 1, side + 1) table: row 0 is a null symbol, column 0 no side.
    table = np.full((len(symbol) + 1, 3), -1, dtype=np.int64)
    if len(family):
        table[1:, 1 + BUY] = family * 2 + BUY
        table[1:, 1 + SELL] = family * 2 + SELL
    groups = table[symbol.codes + 1, day.side + 1]
    day.__dict__["_family_side"] = groups
    return groups
