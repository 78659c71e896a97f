"""The gate's steps one by one: ``decide`` is in memory, ``apply`` has the effects, ``submit`` is both."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import AuditAction
from orderguard.gateway.stack import ControlsStack
from tests.controls_support import make_stack, order


def _booked(stack: ControlsStack) -> list[str]:
    return [state.order_id for state in stack.preclearance.store.snapshot().client_orders]


class TestDecideThenApply:
    def test_deciding_records_and_applies_nothing(self, firm: FirmConfig) -> None:
        """``decide`` builds the audit entry but appends it nowhere and books nothing."""
        s, audit, _ = make_stack(firm)
        decided = s.gate.decide(order("O-1"))
        assert decided.decision.allowed
        assert decided.entry.action is AuditAction.CREATED
        assert decided.entry.object_id == "O-1"
        assert audit.entries == []
        assert _booked(s) == []

    def test_applying_books_the_client_order(self, firm: FirmConfig) -> None:
        """``apply`` on an accepted client order books it for blackouts and raises no alert."""
        s, _, _ = make_stack(firm)
        decided = s.gate.decide(order("O-1"))
        assert s.gate.apply(order("O-1"), decided) == ()
        assert _booked(s) == ["O-1"]

    def test_submit_is_decide_append_apply(self, firm: FirmConfig) -> None:
        """Step by step and ``submit`` give the same decision, entry and effects."""
        stepwise, audit_a, _ = make_stack(firm)
        whole, audit_b, _ = make_stack(firm)
        decided = stepwise.gate.decide(order("O-1"))
        index = audit_a.append(decided.entry)
        stepwise.gate.apply(order("O-1"), decided)
        result = whole.gate.submit(order("O-1"))
        assert (result.decision, result.audit_index) == (decided.decision, index)
        assert audit_b.entries == audit_a.entries
        assert _booked(whole) == _booked(stepwise) == ["O-1"]

    def test_a_blocked_route_alerts_when_applied(self, firm: FirmConfig) -> None:
        """The unusual_route alert of an unapproved venue is raised by ``apply``, not by ``decide``."""
        s, _, sinks = make_stack(firm)
        decided = s.gate.decide(order(venue="DARK-X"))
        assert sinks.alerts == []
        assert [a.rule for a in s.gate.apply(order(venue="DARK-X"), decided)] == ["unusual_route"]


class TestWhatApplyingNeeds:
    @pytest.mark.parametrize(
        ("ticket", "books", "effects"),
        [
            (order(), True, True),
            (order(account="PA-alice"), False, False),  # refused: pre-clearance required
            (order(qty=10_000), False, False),  # refused: approval required
            (order(venue="DARK-X"), False, True),  # refused, and alerted
            (order(actor="dana"), False, False),
        ],
        ids=["client", "personal", "large", "dark", "developer"],
    )
    def test_flags(self, firm: FirmConfig, ticket: object, books: bool, effects: bool) -> None:
        """Only an accepted client order without an approval only books a blackout row."""
        s, _, _ = make_stack(firm)
        decided = s.gate.decide(ticket)  # type: ignore[arg-type]
        assert (decided.books_client_order, decided.has_effects) == (books, effects)
