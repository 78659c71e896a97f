"""Findings drawn from the event store (access review, front-running cost) and their snapshots in
the case evidence, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from orderguard.cases.findings import front_running_impact, review_access
from orderguard.cases.timeline import subject_events
from orderguard.domain import Event, EventKind, Side
from tests.cases_support import SECOND, T0, alert, case_env, event, store_events

DAY = 86_400 * SECOND


def _sell_front_run() -> list[Event]:
    """alice sells 100 MSFT at 50.00 just before her client's 20,000 sell fills at 49.70 and 49.50."""
    fields: dict[str, Any] = {
        "account": "C-PENSION-1",
        "symbol": "MSFT",
        "side": Side.SELL,
        "order_id": "S-1",
    }
    return [
        event(
            "s-p", EventKind.PERSONAL_TRADE, "alice", T0, account="PA-alice", symbol="MSFT", side=Side.SELL,
            qty=100, price=50.0,
        ),
        event("s-c", EventKind.CLIENT_ORDER, "alice", T0 + 20 * SECOND, qty=20_000, price=49.0, **fields),
        event("s-x1", EventKind.EXECUTION, "alice", T0 + 30 * SECOND, qty=10_000, price=49.7, venue="XNYS",
              **fields),
        event("s-x2", EventKind.EXECUTION, "alice", T0 + 40 * SECOND, qty=10_000, price=49.5, venue="XNYS",
              **fields),
    ]  # fmt: skip


class TestFrontRunningImpact:
    def test_a_sell_front_run_costs_the_client_what_they_got_less(self, db_url: str) -> None:
        """For a sell the move is the personal price minus each fill: 0.30 and 0.50 on 10,000 each."""
        with case_env(db_url) as env:
            store_events(env.events, _sell_front_run())
            found = front_running_impact(env.events, alert("front_running", event_ids=("s-p", "s-c")))
            assert found is not None
            assert [e.event_id for e in found.executions] == ["s-x1", "s-x2"]
            assert found.client_cost == pytest.approx(0.30 * 10_000 + 0.50 * 10_000)
            assert found.price_move == pytest.approx(0.40)
            assert found.to_record()["client_order"] == found.client_order.to_record()

    def test_key_events_missing_from_the_store_give_no_finding(self, db_url: str) -> None:
        """An alert whose client order is not stored cannot be priced: None, not a zero cost."""
        with case_env(db_url) as env:
            store_events(env.events, _sell_front_run()[:1])
            assert front_running_impact(env.events, alert("front_running", event_ids=("s-p", "s-c"))) is None

    def test_new_executions_add_a_fresh_snapshot_to_the_case(self, db_url: str) -> None:
        """Attaching after another fill arrived adds a fresh front_running_impact snapshot; the old stays."""
        with case_env(db_url) as env:
            events = _sell_front_run()
            store_events(env.events, events[:3])
            env.stack.alerts.ingest([alert("front_running", action="alert", event_ids=("s-p", "s-c"))])
            [case] = env.stack.store.cases()
            env.stack.cases.attach_alert_evidence(case.case_id, actor="carol")
            store_events(env.events, events[3:])
            env.stack.cases.attach_alert_evidence(case.case_id, actor="carol")
            env.stack.cases.attach_alert_evidence(case.case_id, actor="carol")
            costs = [
                e.content["client_cost"]
                for e in env.stack.cases.show(case.case_id, actor="carol").evidence
                if e.kind == "front_running_impact"
            ]
            assert costs == [pytest.approx(3_000), pytest.approx(8_000)]


class TestAccessReview:
    def test_views_and_exports_name_accounts_and_symbols_and_the_trades_in_them(self, db_url: str) -> None:
        """An export of C-HEDGE-1 and a view of C-PENSION-1 (where AAPL traded) make AAPL and MSFT
        relevant: the subject's AAPL trade is related, her TSLA trade and an account-less export not."""
        with case_env(db_url) as env:
            store_events(
                env.events,
                [
                    event("a-o", EventKind.CLIENT_ORDER, "bob", T0, account="C-PENSION-1", symbol="AAPL",
                          side=Side.BUY, qty=10, price=1.0, order_id="A-1"),
                    event("a-v", EventKind.ORDER_VIEW, "alice", T0 + SECOND, account="C-PENSION-1",
                          records=9),
                    event("a-e", EventKind.DATA_EXPORT, "alice", T0 + 2 * SECOND, account="C-HEDGE-1",
                          symbol="MSFT", records=50),
                    event("a-all", EventKind.DATA_EXPORT, "alice", T0 + 3 * SECOND, records=500),
                    event("a-t1", EventKind.PERSONAL_TRADE, "alice", T0 + 60 * SECOND, account="PA-alice",
                          symbol="AAPL", side=Side.BUY, qty=1, price=1.0),
                    event("a-t2", EventKind.PERSONAL_TRADE, "alice", T0 + 70 * SECOND, account="PA-alice",
                          symbol="TSLA", side=Side.BUY, qty=1, price=1.0),
                ],
            )  # fmt: skip
            start, end = T0 - DAY, T0 + DAY
            activity = subject_events(env.events, "alice", ("PA-alice",), start, end)
            review = review_access(env.events, activity, start, end)
            assert review.viewed_accounts == ("C-HEDGE-1", "C-PENSION-1")
            assert review.viewed_symbols == ("AAPL", "MSFT")
            assert [e.event_id for e in review.related_trades] == ["a-t1"]

    def test_a_case_without_views_gets_no_access_review(self, db_url: str) -> None:
        """Only a subject who viewed or exported client records gets an access_review snapshot."""
        with case_env(db_url) as env:
            store_events(env.events, _sell_front_run())
            env.stack.alerts.ingest([alert("front_running", action="alert", event_ids=("s-p", "s-c"))])
            [case] = env.stack.store.cases()
            kinds = {e.kind for e in env.stack.cases.attach_alert_evidence(case.case_id, actor="carol")}
            assert "access_review" not in kinds
            assert {"event", "front_running_impact", "audit_entry"} <= kinds
