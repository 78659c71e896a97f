"""Need-to-know reads: views authorized by desk and role, each emitted as an order_view event."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction, EventKind, ReasonCode
from tests.controls_support import T0, make_stack, order


class TestOrderViews:
    @pytest.mark.parametrize(
        ("viewer", "allowed"),
        [
            ("alice", True),
            ("bob", True),
            ("tom", False),
            ("carol", True),
            ("sofia", True),
            ("olga", True),
            ("dana", False),
            ("adam", False),
            ("ana", False),
            ("sam", False),
        ],
    )
    def test_who_may_view_an_equities_order(self, firm: FirmConfig, viewer: str, allowed: bool) -> None:
        """Same-desk traders, approvers, compliance and security may; the rest may not."""
        s, audit, sinks = make_stack(firm)
        decision, event = s.views.view(viewer, order(), T0, ip="10.0.0.9", session_id="s-9")
        assert decision.allowed is allowed
        assert audit.last().action is (AuditAction.VIEWED if allowed else AuditAction.REFUSED)
        if allowed:
            assert event is not None
            assert event.kind is EventKind.ORDER_VIEW
            assert (event.actor, event.order_id, event.records, event.ip) == (viewer, "O-1", 1, "10.0.0.9")
            assert sinks.events == [event]
        else:
            assert event is None
            assert sinks.events == []
            assert decision.reason is ReasonCode.NOT_AUTHORIZED

    def test_a_view_makes_the_viewer_subject_to_blackout(self, firm: FirmConfig) -> None:
        """carol viewed the working order, so she is in blackout for its symbol."""
        s, _, _ = make_stack(firm)
        ticket = order("C-7", symbol="IBM")
        s.gate.submit(ticket)
        s.views.view("carol", ticket, T0)
        from orderguard.domain import Side

        assert (
            s.preclearance.evaluate("carol", "IBM", Side.BUY, T0).reason is ReasonCode.PRECLEARANCE_BLACKOUT
        )
