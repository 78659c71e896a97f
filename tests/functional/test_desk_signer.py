"""Desk signing keys out of the API process, end to end: the desk signer and the connector in their own
processes, the real SQLite audit log, verified afterwards; the signer killed mid-run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from orderguard.audit.keys import NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode, Side
from orderguard.execution import ConnectorResult, KeyPurpose
from orderguard.gateway.orders import OrderTicket
from orderguard.storage.migrate import upgrade
from orderguard.wiring.execution_path import ExecutionPath
from orderguard.wiring.remote_connector import PATH_ACTOR
from orderguard.wiring.remote_signer import SIGNER_ACTOR
from tests.conftest import EXAMPLE_FIRM
from tests.execution_support import Clock
from tests.functional.test_connector_process import ALLOW, CONNECTOR, Logged, ticket


class SignerLogged(Logged):
    """``Logged`` with the desk keys in the signer process (a low rate limit, to see it bite)."""

    def __init__(self, firm: FirmConfig, url: str) -> None:
        upgrade(url)
        self.signer = NoteSigner.generate("orderguard-test")
        self.log = AuditLog(url, signer=self.signer)
        self.path = ExecutionPath(
            firm,
            self.log,
            connector="process",
            firm_path=EXAMPLE_FIRM,
            desk_keys="signer",
            signer_options=["--max-orders-per-second", "1000"],
        )


@pytest.fixture
def logged(firm: FirmConfig, sqlite_url: str) -> Iterator[SignerLogged]:
    world = SignerLogged(firm, sqlite_url)
    yield world
    world.path.close()
    world.log.close()


class TestDeskSigner:
    def test_the_api_process_holds_no_order_signing_key_and_orders_execute(
        self, logged: SignerLogged
    ) -> None:
        """Orders from threads are signed in the signer, verified by the connector, filled, audited once."""
        assert logged.path._signing == {}
        signer = logged.path._signer
        assert signer is not None
        assert all(r.purpose is KeyPurpose.ORDER_SIGNING for r in signer.keys.values())
        now = Clock().now_ns
        with ThreadPoolExecutor(6) as pool:
            results = list(
                pool.map(lambda t: logged.path.execute(t, ALLOW), [ticket(n, now + n) for n in range(60)])
            )
        assert all(r.accepted and r.executions for r in results)
        assert {h["actor"] for h in logged.entries()} == {CONNECTOR}
        logged.verify()

    def test_the_signers_refusal_is_audited_and_nothing_reaches_the_connector(
        self, logged: SignerLogged
    ) -> None:
        """Kim (key custodian) has a desk key in the signer but it refuses to sign for her."""
        now = Clock().now_ns
        kim = OrderTicket("T-K", "kim", "C-HEDGE-1", "AAPL", Side.BUY, 10, 190.5, "XNYS", now)
        result = logged.path.execute(kim, ALLOW)
        assert result.decision.reason is ReasonCode.SOD_CONFLICTING_ROLES
        assert result.executions == ()
        (entry,) = logged.entries()
        assert (entry["actor"], entry["reason_code"]) == (SIGNER_ACTOR, "SOD_CONFLICTING_ROLES")
        logged.verify()

    def test_killing_the_signer_mid_run_refuses_the_rest_and_the_log_verifies(
        self, logged: SignerLogged
    ) -> None:
        """After the kill every order is refused (SIGNER_UNAVAILABLE, audited, never filled)."""
        signer = logged.path._signer
        assert signer is not None
        assert signer.process is not None
        now = Clock().now_ns
        done = 0
        lock = threading.Lock()

        def execute(t: OrderTicket) -> ConnectorResult:
            nonlocal done
            result = logged.path.execute(t, ALLOW)
            with lock:
                done += 1
                if done == 30:
                    signer.process.kill()  # type: ignore[union-attr]
            return result

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(execute, [ticket(n, now + n) for n in range(150)]))
        accepted = [r for r in results if r.accepted]
        refused = [r for r in results if not r.accepted]
        assert accepted
        assert refused
        assert {r.decision.reason for r in refused} == {ReasonCode.SIGNER_UNAVAILABLE}
        assert all(r.executions == () for r in refused)
        assert "desk signer process" in refused[-1].decision.message
        entries = logged.entries()
        refusals = [e["after"]["order_id"] for e in entries if e["actor"] == PATH_ACTOR]
        assert sorted(refusals) == sorted(r.order_id or "" for r in refused)
        executed = [e["after"]["order_id"] for e in entries if e["action"] == "executed"]
        assert sorted(executed) == sorted(
            r.order_id or "" for r in accepted
        )  # each filled order audited once
        logged.verify()
