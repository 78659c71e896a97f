"""Break-glass covers large orders, deploys and key operations; every other action keeps its quorum."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderguard.approvals.model import BREAK_GLASS_ACTIONS, BreakGlassGrant, SensitiveAction
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from tests.controls_support import SECOND, T0, make_stack

REASON = "exchange outage, cannot wait for the desk head"
OUTSIDE = sorted(set(SensitiveAction) - BREAK_GLASS_ACTIONS)


class TestScope:
    @pytest.mark.parametrize("action", OUTSIDE, ids=[a.value for a in OUTSIDE])
    def test_break_glass_is_refused_outside_its_scope(
        self, firm: FirmConfig, action: SensitiveAction
    ) -> None:
        """The initiator's break-glass on any other action is NOT_AUTHORIZED and leaves no grant."""
        s, audit, sinks = make_stack(firm)
        _, request = s.approvals.open(action, "X-1", "chris", {"what": "anything"}, T0)
        assert request is not None
        decision = s.break_glass.invoke(request.id, "chris", REASON, T0)
        assert decision.reason is ReasonCode.NOT_AUTHORIZED
        assert audit.last().reason_code == "NOT_AUTHORIZED"
        stored = s.approvals.store.get(request.id)
        assert stored is not None
        assert stored.break_glass is None
        assert not sinks.notifications

    def test_a_grant_stored_outside_the_scope_is_ignored(self, firm: FirmConfig) -> None:
        """A role-grant request carrying an active grant (written by an older version) is not ready."""
        s, _, _ = make_stack(firm)
        content = {"target": "carol", "role": "role_admin"}
        _, request = s.approvals.open(SensitiveAction.ROLE_GRANT, "carol:role_admin", "chris", content, T0)
        assert request is not None
        grant = BreakGlassGrant(request.id, "chris", REASON, T0, T0 + 900 * SECOND, ())
        s.approvals.store.save(replace(request, break_glass=grant))
        stored = s.approvals.store.get(request.id)
        ready = s.approvals.readiness(
            stored, SensitiveAction.ROLE_GRANT, "carol:role_admin", request.digest, T0
        )
        assert ready.reason is ReasonCode.APPROVAL_REQUIRED
