"""Publishing reference prices (market-data feed, end-of-day file): authorized, audited, then applied.

Cedar decides ``publish_reference_prices`` on ``MarketData`` (the shipped policy: the ``admin``
role, who run the firm's feeds; never a trader, whose sells the prices value). The audit entry
(who, how many, the source, a digest of the exact rows) is durable before a single price is
stored; a refusal is audited too. The firm file's prices stay floors whatever is published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from orderguard.domain import AuditAction, AuditEntry, AuditSink, ReasonCode
from orderguard.gateway.reference_prices import PriceUpdate, ReferencePrices

ACTION = "publish_reference_prices"
RESOURCE = "MarketData"
BAD_INPUT = "BAD_REFERENCE_PRICE"  # the refusal code of a batch that does not parse (API answer 400)


def batch_digest(updates: Sequence[PriceUpdate]) -> str:
    """SHA-256 of the rows as stored (symbol, price, ts, in order): the audit entry's proof of content."""
    rows = [[u.symbol, repr(u.price), u.ts] for u in updates]
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


class ReferenceFeed:
    """Audits and applies reference price batches to one ``ReferencePrices``."""

    def __init__(self, prices: ReferencePrices, audit: AuditSink) -> None:
        self.prices = prices
        self.audit = audit

    def publish(
        self,
        actor: str,
        updates: Sequence[PriceUpdate],
        *,
        source: str,
        now: int,
        ip: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Audit the batch, then store it (one transaction); the audit index."""
        after: dict[str, object] = {
            "source": source,
            "count": len(updates),
            "symbols": sorted({u.symbol for u in updates})[:50],
            "first_ts": min(u.ts for u in updates),
            "last_ts": max(u.ts for u in updates),
            "sha256": batch_digest(updates),
        }
        index = self.audit.append(
            AuditEntry(
                kind="reference_prices",
                action=AuditAction.MODIFIED,
                object_id=source,
                actor=actor,
                ts=now,
                after=after,
                ip=ip,
                session_id=session_id,
                decision="allow",
                reason_code=ReasonCode.ALLOWED.value,
            )
        )
        self.prices.publish(updates, now)
        return index

    def refuse(
        self,
        actor: str,
        reason: str,
        message: str,
        *,
        source: str,
        now: int,
        policy_ids: tuple[str, ...] = (),
        ip: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Audit a refused batch (not authorized, bad input: ``reason`` names which); nothing is stored."""
        return self.audit.append(
            AuditEntry(
                kind="reference_prices",
                action=AuditAction.REFUSED,
                object_id=source,
                actor=actor,
                ts=now,
                after={"source": source, "message": message},
                ip=ip,
                session_id=session_id,
                decision="deny",
                reason_code=reason,
                policy_ids=policy_ids,
            )
        )
