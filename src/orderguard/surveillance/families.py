"""Vectorised (instrument family, side) group codes, the batch twin of SurveillanceContext.family."""

from __future__ import annotations

import numpy as np

from orderguard.surveillance.columns import I64, DayColumns
from orderguard.surveillance.context import SurveillanceContext


def family_side_groups(day: DayColumns, ctx: SurveillanceContext) -> I64:
    """Per row: family code * 2 + side (0 buy, 1 sell); -1 where symbol or side is missing."""
    cached = day.__dict__.get("_family_side")
    if cached is not None:
        result: I64 = cached
        return result
    symbol = day.coded("symbol")
    family_codes: dict[str, int] = {}
    lookup = np.array(
        [family_codes.setdefault(ctx.family(s), len(family_codes)) for s in symbol.values] + [-1],
        dtype=np.int64,
    )
    family = lookup[symbol.codes]  # code -1 picks the trailing -1
    side = day.side.astype(np.int64)
    groups = np.where((family >= 0) & (side >= 0), family * 2 + side, -1)
    day.__dict__["_family_side"] = groups
    return groups
