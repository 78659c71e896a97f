"""A clearance is held by the order whose check found it valid: spent by that order, or given back."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditEntry, ReasonCode, Side
from tests.controls_support import T0, make_stack, order


class FailingAudit:
    """An audit log that is down: every append raises."""

    def append(self, entry: AuditEntry) -> int:
        raise OSError("audit database unreachable")


class TestHeldClearance:
    def test_a_held_clearance_is_invisible_to_the_next_check(self, firm: FirmConfig) -> None:
        """Once one order's check holds the clearance, a second order finds none."""
        s, _, _ = make_stack(firm)
        s.preclearance.request("dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=10, now=T0)
        first = s.gate.decide(order("P-1", actor="dana", account="PA-dana", symbol="IBM", qty=10))
        second = s.gate.decide(order("P-2", actor="dana", account="PA-dana", symbol="IBM", qty=10))
        assert first.decision.allowed
        assert second.decision.reason is ReasonCode.PRECLEARANCE_REQUIRED

    def test_an_order_that_could_not_be_audited_gives_its_clearance_back(self, firm: FirmConfig) -> None:
        """The audit append fails: the error propagates, and the clearance covers the next try."""
        s, _, _ = make_stack(firm)
        s.preclearance.request("dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=10, now=T0)
        ticket = order("P-1", actor="dana", account="PA-dana", symbol="IBM", qty=10)
        working = s.gate.audit
        s.gate.audit = FailingAudit()
        with pytest.raises(OSError, match="unreachable"):
            s.gate.submit(ticket)
        s.gate.audit = working
        assert s.gate.submit(order("P-2", actor="dana", account="PA-dana", symbol="IBM", qty=10)).go

    def test_spending_for_an_order_spends_only_what_it_held(self, firm: FirmConfig) -> None:
        """An order that held nothing spends nothing: a fresh clearance stays for the next trade."""
        s, _, _ = make_stack(firm)
        s.preclearance.request("dana", "PA-dana", symbol="IBM", side=Side.BUY, qty=10, now=T0)
        s.preclearance.spend("dana", "PA-dana", "IBM", Side.BUY, T0, order_id="never-checked")
        assert s.gate.submit(order("P-1", actor="dana", account="PA-dana", symbol="IBM", qty=10)).go
