"""A block of generated events of one kind as parallel NumPy columns (codes, -1 / NaN for absent)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _absent_int(n: int) -> np.ndarray:
    return np.full(n, -1, dtype=np.int64)


def _absent_float(n: int) -> np.ndarray:
    return np.full(n, np.nan)


@dataclass
class Part:
    """Events of one kind; string fields are indices into the day's lookup tables."""

    kind: int
    ts: np.ndarray
    actor: np.ndarray
    account: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    symbol: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    side: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    qty: np.ndarray = field(default_factory=lambda: np.empty(0))
    price: np.ndarray = field(default_factory=lambda: np.empty(0))
    venue: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    records: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ip: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    session: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in ("account", "symbol", "side", "venue", "order", "records", "ip", "session"):
            if len(getattr(self, name)) == 0:
                setattr(self, name, _absent_int(n))
        for name in ("qty", "price"):
            if len(getattr(self, name)) == 0:
                setattr(self, name, _absent_float(n))

    def __len__(self) -> int:
        return len(self.ts)
