"""The explicit list of built-in detectors, in the order their alerts are reported."""

from __future__ import annotations

from typing import Final

from orderguard.surveillance.context import SurveillanceContext
from orderguard.surveillance.detector import Detector
from orderguard.surveillance.detectors.after_hours_access import AfterHoursAccess
from orderguard.surveillance.detectors.bulk_export import BulkExport
from orderguard.surveillance.detectors.copy_trading import CopyTrading
from orderguard.surveillance.detectors.front_running import FrontRunning
from orderguard.surveillance.detectors.large_personal_trade import LargePersonalTrade
from orderguard.surveillance.detectors.query_volume import QueryVolume
from orderguard.surveillance.detectors.structuring import Structuring
from orderguard.surveillance.detectors.unusual_route import UnusualRoute
from orderguard.surveillance.detectors.wash_trading import WashTrading

DETECTORS: Final[tuple[type[Detector], ...]] = (
    FrontRunning,
    CopyTrading,
    WashTrading,
    LargePersonalTrade,
    AfterHoursAccess,
    UnusualRoute,
    QueryVolume,
    BulkExport,
    Structuring,
)
RULES: Final = tuple(d.rule for d in DETECTORS)


def build_detectors(ctx: SurveillanceContext, only: tuple[str, ...] | None = None) -> list[Detector]:
    """One instance of every enabled detector (or of those named in ``only``)."""
    unknown = set(only or ()) - set(RULES)
    if unknown:
        raise ValueError(f"unknown rule(s) {sorted(unknown)}; known rules: {', '.join(RULES)}")
    chosen = []
    for cls in DETECTORS:
        if only is not None and cls.rule not in only:
            continue
        if getattr(ctx.detectors, cls.rule).enabled:
            chosen.append(cls(ctx))
    return chosen
