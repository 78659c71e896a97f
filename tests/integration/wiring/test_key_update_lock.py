"""A key update waits for the batch being judged: no batch is judged half under the old keys."""

from __future__ import annotations

import threading
from dataclasses import replace

from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode, Side
from orderguard.execution import KeyPurpose
from orderguard.gateway.orders import OrderTicket
from orderguard.wiring.execution_path import ExecutionPath
from tests.execution_support import Clock, MemoryAuditSink

ALLOW = Decision.allow("controls passed", ("policy.default",))


class TestKeyUpdateLock:
    def test_a_revocation_waits_for_the_judging_lock_and_holds_for_the_next_batch(
        self, firm: FirmConfig
    ) -> None:
        """While a batch holds the judging lock the revocation waits; once applied, alice is refused."""
        path = ExecutionPath(firm, MemoryAuditSink())
        now = Clock().now_ns
        alice = next(
            r
            for r in path.directory.records()
            if r.owner == "alice" and r.purpose is KeyPurpose.ORDER_SIGNING
        )
        applied = threading.Event()

        def revoke() -> None:
            path.apply_key_records([replace(alice, revoked_ns=now, revocation_reason="laptop stolen")])
            applied.set()

        with path._judging:  # a batch being judged
            worker = threading.Thread(target=revoke)
            worker.start()
            assert not applied.wait(0.3)
            assert path.directory.get(alice.key_id) == alice  # not yet in force
        worker.join(10)
        assert applied.is_set()
        ticket = OrderTicket("K-1", "alice", "C-HEDGE-1", "AAPL", Side.BUY, 10, 190.5, "XNYS", now + 1)
        assert path.execute(ticket, ALLOW).decision.reason is ReasonCode.KEY_REVOKED
        path.close()
