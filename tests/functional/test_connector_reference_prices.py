"""Red team: the connector values a SELL on its own reference prices, not on the API process's word.

A compromised API process (or a bypassed gate) sends the finding's dump, 9,000,000 shares at a 0.10
limit (900,000 on the limit), as an allowed order without approvals. The connector reads the stored
reference price (50) itself and refuses it: 450,000,000 needs the large-order quorum.
"""

from __future__ import annotations

import time

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode, Side
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.reference_prices import NS_PER_SECOND, PriceUpdate
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import ConnectorMode, ExecutionPath
from tests.conftest import EXAMPLE_FIRM
from tests.execution_support import MemoryAuditSink

FORGED_ALLOW = Decision.allow("controls passed", ("policy.default",))  # what a bypassed gate would say


def sell(order_id: str, qty: float, now: int) -> OrderTicket:
    return OrderTicket(order_id, "alice", "C-HEDGE-1", "AAPL", Side.SELL, qty, 0.10, "XNYS", now)


def store_price(url: str, price: float, ts: int) -> None:
    upgrade(url)
    store = SqlReferenceStore(make_engine(url))
    store.record([PriceUpdate("AAPL", price, ts, "feed:adam")], ts)
    store.engine.dispose()


@pytest.mark.parametrize("mode", ["in-process", "process"])
class TestConnectorReferencePrices:
    def test_the_dump_is_refused_without_approvals_even_past_the_gate(
        self, firm: FirmConfig, sqlite_url: str, mode: ConnectorMode
    ) -> None:
        """9,000,000 at 0.10 with a stored reference of 50: APPROVAL_REQUIRED at the connector, audited."""
        now = time.time_ns()
        store_price(sqlite_url, 50.0, now - NS_PER_SECOND)
        sink = MemoryAuditSink()
        path = ExecutionPath(firm, sink, connector=mode, firm_path=EXAMPLE_FIRM, reference_db=sqlite_url)
        try:
            result = path.execute(sell("DUMP-1", 9_000_000, now), FORGED_ALLOW)
            approved = path.execute(sell("DUMP-2", 9_000_000, now), FORGED_ALLOW, ["olga"])
        finally:
            path.close()
        assert not result.accepted
        assert result.decision.reason is ReasonCode.APPROVAL_REQUIRED
        assert "has notional 450000000 above 1000000" in result.decision.message
        assert next(e.reason_code for e in sink.entries if e.kind == "order") == "APPROVAL_REQUIRED"
        assert approved.accepted, approved.decision  # with the quorum the same order goes


class TestConnectorWithoutFreshPrices:
    def test_a_stale_reference_still_counts_at_the_connector(self, firm: FirmConfig, sqlite_url: str) -> None:
        """Two days old, the stored 50 still values a 50,000-share sell at 2,500,000: quorum needed."""
        now = time.time_ns()
        store_price(sqlite_url, 50.0, now - 2 * 86_400 * NS_PER_SECOND)
        path = ExecutionPath(firm, MemoryAuditSink(), reference_db=sqlite_url)
        result = path.execute(sell("STALE-1", 50_000, now), FORGED_ALLOW)
        assert result.decision.reason is ReasonCode.APPROVAL_REQUIRED

    def test_an_unpriced_dump_is_refused_by_the_quantity_cap(self, firm: FirmConfig) -> None:
        """No reference anywhere: above the unpriced cap, the connector asks for the quorum too."""
        path = ExecutionPath(firm, MemoryAuditSink())
        now = time.time_ns()
        result = path.execute(sell("UNPRICED-1", 9_000_000, now), FORGED_ALLOW)
        assert result.decision.reason is ReasonCode.APPROVAL_REQUIRED
        assert "unpriced quantity cap" in result.decision.message
        small = path.execute(sell("UNPRICED-2", 1_000, now), FORGED_ALLOW)
        assert small.accepted, small.decision
