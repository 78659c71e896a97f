"""A small bounded least-recently-inserted map for signatures already verified.

Only successful verifications are stored, keyed by every byte the signature
covered (plus the signature), so a hit means "these exact bytes were already
verified"; key validity (revocation, rotation) is still checked on every use.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class VerifiedCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[bytes, V] = OrderedDict()
        self._size = size

    def get(self, key: bytes) -> V | None:
        return self._items.get(key)

    def put(self, key: bytes, value: V) -> None:
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
