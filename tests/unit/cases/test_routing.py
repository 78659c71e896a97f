"""Routing rule actions to queues and automatic responses."""

from __future__ import annotations

import pytest

from orderguard.cases.model import Queue, ResponseKind
from orderguard.cases.routing import route


class TestRoute:
    @pytest.mark.parametrize(
        ("action", "queues", "responses"),
        [
            ("alert", (Queue.COMPLIANCE,), ()),
            ("alert_compliance", (Queue.COMPLIANCE,), ()),
            ("alert_security", (Queue.SECURITY,), ()),
            ("block_and_alert", (Queue.COMPLIANCE, Queue.SECURITY), (ResponseKind.BLOCK,)),
            ("suspend_and_alert_security", (Queue.COMPLIANCE, Queue.SECURITY), (ResponseKind.SUSPEND,)),
            ("hold_and_alert_security", (Queue.COMPLIANCE, Queue.SECURITY), (ResponseKind.LEGAL_HOLD,)),
        ],
    )
    def test_each_action_has_its_route(
        self, action: str, queues: tuple[Queue, ...], responses: tuple[ResponseKind, ...]
    ) -> None:
        """Every documented action routes to its queues and starts its responses."""
        found = route(action)
        assert found.queues == queues
        assert found.responses == responses
        assert found.unknown == ()

    def test_an_unknown_action_goes_to_compliance_and_is_named(self) -> None:
        """No alert is dropped for an unknown action; the unknown token is reported."""
        found = route("block_and_page_ceo")
        assert found.queues == (Queue.COMPLIANCE, Queue.SECURITY)
        assert found.responses == (ResponseKind.BLOCK,)
        assert found.unknown == ("page_ceo",)
