"""The connector's memory of orders it already accepted: refuses a second use of an order id or nonce.

An order is claimed atomically (both its order id and its nonce, in one
step) after every other check passed and before it is handed to the venue,
so a crash between claim and hand-off can lose an order (fail safe) but never
send one twice. Entries may be pruned once their order has expired: the
connector refuses expired envelopes anyway, so the set stays bounded by
throughput x maximum order lifetime.
"""

from __future__ import annotations

from typing import Protocol


class ReplayCache(Protocol):
    """Seen order ids and nonces. ``claim`` is atomic and durable when it returns True."""

    def claim(self, order_id: str, nonce: bytes, digest: bytes, expires_ns: int, accepted_ns: int) -> bool:
        """Record the order; False (and nothing recorded) if its order id or nonce was seen before."""
        ...

    def prune(self, now_ns: int) -> int:
        """Forget orders that expired before ``now_ns``; returns how many were forgotten."""
        ...


class MemoryReplayCache:
    """In-process replay cache: for tests and benchmarks; it does not survive a restart."""

    def __init__(self) -> None:
        self._order_ids: dict[str, int] = {}
        self._nonces: dict[bytes, int] = {}

    def claim(
        self,
        order_id: str,
        nonce: bytes,
        digest: bytes,  # noqa: ARG002 - kept by durable caches for forensics
        expires_ns: int,
        accepted_ns: int,  # noqa: ARG002 - kept by durable caches for forensics
    ) -> bool:
        if order_id in self._order_ids or nonce in self._nonces:
            return False
        self._order_ids[order_id] = expires_ns
        self._nonces[nonce] = expires_ns
        return True

    def prune(self, now_ns: int) -> int:
        before = len(self._order_ids)
        self._order_ids = {k: v for k, v in self._order_ids.items() if v >= now_ns}
        self._nonces = {k: v for k, v in self._nonces.items() if v >= now_ns}
        return before - len(self._order_ids)

    def __len__(self) -> int:
        return len(self._order_ids)
