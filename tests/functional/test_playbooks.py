"""Incident playbooks end to end through the cases service layer, on both backends.

The alerts come from the real surveillance engines (batch and stream) over events stored
through the real intake path; evidence is exported as an audit bundle and verified offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderguard.audit.bundle import verify_bundle
from orderguard.audit.keys import KeySet
from orderguard.cases.model import Queue
from orderguard.cases.notify import WebhookNotifier, verify_signature
from orderguard.cases.playbooks import contain, front_running_impact, investigate_access, preserve
from orderguard.domain import AuditAction, Event, EventKind, ReasonCode, Side, parse_ts
from orderguard.domain.alerts import Alert
from orderguard.ingest import batch_from_records
from orderguard.surveillance.batch import BatchEngine
from orderguard.surveillance.stream import StreamEngine
from tests.cases_support import SECOND, T0, CaseEnv, case_env, event, receiver, store_events

SECRET = b"security-team-webhook"
# 23:00 in New York on Friday 2026-11-20.
NIGHT = parse_ts("2026-11-21T04:00:00Z")


def _surveil(env: CaseEnv, events: list[Event], rules: tuple[str, ...]) -> list[Alert]:
    """Store the events, run both engines over them, and ingest both engines' alerts."""
    store_events(env.events, events)
    table = batch_from_records([e.to_record() for e in events]).table
    batch = BatchEngine(env.stack.config, rules=rules).scan(table)
    stream = StreamEngine(env.stack.config, rules=rules)
    stored = {e.event_id: e for actor in {e.actor for e in events} for e in env.events.by_actor(actor)}
    streamed = [a for e in sorted(stored.values(), key=lambda e: (e.ts, e.seq)) for a in stream.observe(e)]
    env.stack.alerts.ingest(streamed)
    result = env.stack.alerts.ingest(batch)
    assert result.stored == []  # the stream already stored every alert the batch found
    return batch


def _night_of_alice() -> list[Event]:
    """Bob's client orders by day; at 23:00 alice logs in and views 50 client-order records."""
    day = [
        event(
            "d-1",
            EventKind.CLIENT_ORDER,
            "bob",
            T0,
            account="C-PENSION-1",
            symbol="AAPL",
            side=Side.BUY,
            qty=50_000,
            price=190.0,
            order_id="P-1",
        ),
        event(
            "d-2",
            EventKind.CLIENT_ORDER,
            "bob",
            T0 + 60 * SECOND,
            account="C-HEDGE-1",
            symbol="MSFT",
            side=Side.SELL,
            qty=20_000,
            price=410.0,
            order_id="H-1",
        ),
    ]
    night = [event("n-login", EventKind.LOGIN, "alice", NIGHT - 120 * SECOND)]
    night += [
        event(
            f"n-view-{i}",
            EventKind.ORDER_VIEW,
            "alice",
            NIGHT + i * 90 * SECOND,
            account=("C-PENSION-1", "C-HEDGE-1")[i % 2],
            records=5,
        )
        for i in range(10)
    ]
    night += [
        event(
            "n-trade-aapl",
            EventKind.PERSONAL_TRADE,
            "alice",
            NIGHT + 1800 * SECOND,
            account="PA-alice",
            symbol="AAPL",
            side=Side.BUY,
            qty=300,
            price=191.0,
        ),
        event(
            "n-trade-tsla",
            EventKind.PERSONAL_TRADE,
            "alice",
            NIGHT + 1900 * SECOND,
            account="PA-alice",
            symbol="TSLA",
            side=Side.BUY,
            qty=10,
            price=250.0,
        ),
    ]
    return day + night


class TestAfterHoursAccessPlaybook:
    def test_alert_contain_investigate_preserve(self, db_url: str, tmp_path: Path) -> None:
        """50 records viewed at 11 PM: alert, suspend, hold, notify, investigate, bundle verifies offline."""
        with receiver() as security_hook:
            hook = WebhookNotifier(security_hook.url, SECRET, name="security-webhook", timeout=2)
            with case_env(db_url, notifiers=[hook]) as env:
                # 1. Alert: the detectors see it, the alerts go to the security queue, one case for alice.
                alerts = _surveil(env, _night_of_alice(), ("query_volume", "after_hours_access"))
                rules = {a.rule for a in alerts}
                assert rules == {"query_volume", "after_hours_access"}
                assert {a.actor for a in alerts} == {"alice"}
                queued = env.stack.alerts.list_alerts(actor="sofia", queue=Queue.SECURITY)
                assert {a.alert_id for a in queued} == {a.alert_id for a in alerts}
                [case] = env.stack.cases.list_cases(actor="sofia")
                volume = next(a for a in alerts if a.rule == "query_volume")

                # 2. Immediate actions, effective on the very next check.
                done = contain(env.stack, volume.alert_id, responder="sofia", reason="50 records at 23:00")
                assert env.stack.state.check_access("alice").reason is ReasonCode.PRINCIPAL_SUSPENDED
                assert env.stack.state.is_held("alice")
                assert done.notified == ("security-webhook",)
                assert env.stack.dispatcher is not None
                assert env.stack.dispatcher.drain(10)
                bodies = [json.loads(b) for b, s in security_hook.bodies if verify_signature(SECRET, b, s)]
                assert volume.alert_id in {b["alert_id"] for b in bodies}

                # 3. Investigation: the timeline, what she viewed, what she traded in it.
                env.stack.cases.assign(case.case_id, "sofia", actor="chris")
                found = investigate_access(env.stack, case.case_id, investigator="sofia")
                kinds = [t.kind for t in found.timeline if t.source == "event"]
                assert kinds[0] == "login"
                assert kinds.count("order_view") == 10
                assert "personal_trade" in kinds
                assert found.viewed_accounts == ("C-HEDGE-1", "C-PENSION-1")
                assert set(found.viewed_symbols) == {"AAPL", "MSFT"}
                assert [e.event_id for e in found.related_trades] == ["n-trade-aapl"]
                audit_kinds = {t.kind for t in found.timeline if t.source == "audit"}
                assert audit_kinds == set()  # investigators' reads and responses are not her activity

                # 4. Preservation: a bundle an auditor verifies offline with the firm's public key.
                out = tmp_path / "case-bundle.json"
                entries, _ = preserve(env.stack, case.case_id, investigator="sofia", out=out, keys=_keys(env))
                report = verify_bundle(out, _keys(env))
                assert report.problems == []
                assert len(report.entries) == entries
                actions = {e["action"] for e in report.entries}
                assert {AuditAction.ALERTED, AuditAction.SUSPENDED, AuditAction.LEGAL_HOLD} <= actions
                assert {AuditAction.VIEWED, AuditAction.CASE_UPDATED} <= actions
                evidence = env.stack.cases.show(case.case_id, actor="sofia").evidence
                assert {e.ref for e in evidence if e.kind == "event"} >= {f"n-view-{i}" for i in range(10)}

                # Tampering with one preserved payload is caught offline.
                bundle = json.loads(out.read_text())
                first = next(e for e in bundle["entries"] if e["payload"])
                first["payload"] = first["payload"][:-4] + (
                    "AAAA" if first["payload"][-4:] != "AAAA" else "BBBB"
                )
                out.write_text(json.dumps(bundle))
                assert verify_bundle(out, _keys(env)).problems


def _keys(env: CaseEnv) -> KeySet:
    return KeySet([env.signer.verifier])


class TestFrontRunningPlaybook:
    def test_personal_trade_and_client_order_are_linked_with_the_clients_cost(self, db_url: str) -> None:
        """alice buys 100 AAPL at 190.00, her client fills 20,000 at 190.50/190.80: the case prices it."""
        events = [
            event(
                "fr-p",
                EventKind.PERSONAL_TRADE,
                "alice",
                T0,
                account="PA-alice",
                symbol="AAPL",
                side=Side.BUY,
                qty=100,
                price=190.00,
            ),
            event(
                "fr-c",
                EventKind.CLIENT_ORDER,
                "alice",
                T0 + 30 * SECOND,
                account="C-PENSION-1",
                symbol="AAPL",
                side=Side.BUY,
                qty=20_000,
                price=191.00,
                order_id="CO-7",
            ),
            event(
                "fr-x1",
                EventKind.EXECUTION,
                "alice",
                T0 + 40 * SECOND,
                account="C-PENSION-1",
                symbol="AAPL",
                side=Side.BUY,
                qty=10_000,
                price=190.50,
                order_id="CO-7",
                venue="XNYS",
            ),
            event(
                "fr-x2",
                EventKind.EXECUTION,
                "alice",
                T0 + 50 * SECOND,
                account="C-PENSION-1",
                symbol="AAPL",
                side=Side.BUY,
                qty=10_000,
                price=190.80,
                order_id="CO-7",
                venue="XNYS",
            ),
        ]
        with case_env(db_url) as env:
            [found] = _surveil(env, events, ("front_running",))
            assert set(found.event_ids) >= {"fr-p", "fr-c"}
            [case] = env.stack.cases.list_cases(actor="carol")
            [impact] = front_running_impact(env.stack, case.case_id, investigator="carol")
            assert impact.personal_trade.event_id == "fr-p"
            assert impact.client_order.event_id == "fr-c"
            assert [e.event_id for e in impact.executions] == ["fr-x1", "fr-x2"]
            assert impact.client_qty == 20_000
            assert impact.client_cost == pytest.approx(0.50 * 10_000 + 0.80 * 10_000)
            assert impact.price_move == pytest.approx(0.65)
            env.stack.cases.attach_alert_evidence(case.case_id, actor="carol")
            refs = {
                e.ref for e in env.stack.cases.show(case.case_id, actor="carol").evidence if e.kind == "event"
            }
            assert {"fr-p", "fr-c"} <= refs
