"""A reference price batch is audited before any price of it is applied."""

from __future__ import annotations

import pytest

from orderguard.domain import AuditEntry
from orderguard.gateway.reference_feed import ReferenceFeed, batch_digest
from orderguard.gateway.reference_prices import PriceUpdate, ReferencePrices
from tests.controls_support import T0, MemoryAuditSink

BATCH = [PriceUpdate("AAPL", 187.5, T0, "feed:adam"), PriceUpdate("MSFT", 410.0, T0, "feed:adam")]


class BrokenAudit:
    """An audit log whose disk is full."""

    def append(self, entry: AuditEntry) -> int:
        raise OSError(f"disk full writing {entry.object_id}")


class TestReferenceFeed:
    def test_the_entry_names_who_how_many_and_the_content(self) -> None:
        """The entry carries actor, source, count, symbols and the batch's digest; then prices apply."""
        audit, prices = MemoryAuditSink(), ReferencePrices()
        index = ReferenceFeed(prices, audit).publish("adam", BATCH, source="feed:adam", now=T0, ip="10.0.0.5")
        entry = audit.entries[index]
        assert (entry.kind, entry.actor, entry.object_id, entry.ip) == (
            "reference_prices",
            "adam",
            "feed:adam",
            "10.0.0.5",
        )
        assert entry.after is not None
        assert entry.after["count"] == 2
        assert entry.after["symbols"] == ["AAPL", "MSFT"]
        assert entry.after["sha256"] == batch_digest(BATCH)
        assert prices.get("MSFT") is not None

    def test_nothing_applies_when_the_audit_entry_cannot_be_written(self) -> None:
        """If the audit append fails, no price of the batch is held."""
        prices = ReferencePrices()
        with pytest.raises(OSError, match="disk full"):
            ReferenceFeed(prices, BrokenAudit()).publish("adam", BATCH, source="feed:adam", now=T0)
        assert prices.get("AAPL") is None

    def test_the_digest_changes_with_any_price(self) -> None:
        """A different price in the batch gives a different digest (the entry proves the content)."""
        changed = [BATCH[0], PriceUpdate("MSFT", 41.0, T0, "feed:adam")]
        assert batch_digest(BATCH) != batch_digest(changed)
