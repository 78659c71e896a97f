"""The alert store on both backends: idempotent ingestion, routing, cases per subject, workflow, audit."""

from __future__ import annotations

import pytest

from orderguard.cases.metrics import false_positive_rates
from orderguard.cases.model import AlertStatus, CaseError, CaseStatus, Disposition, Queue, ResponseKind
from orderguard.cases.responses import SYSTEM_ACTOR
from orderguard.cases.stack import build_cases
from orderguard.domain import AuditAction
from tests.cases_support import alert, case_env


class TestIngestion:
    def test_the_same_alert_twice_is_stored_and_audited_once(self, db_url: str) -> None:
        """Ingesting an alert again (a replay of the stream) stores nothing and audits nothing more."""
        with case_env(db_url) as env:
            first = env.stack.alerts.ingest([alert()])
            size = env.log.head()[0]
            again = env.stack.alerts.ingest([alert(), alert()])
            assert first.stored == [alert().alert_id]
            assert again.stored == []
            assert again.duplicates == [alert().alert_id] * 2
            assert env.log.head()[0] == size
            assert len(env.stack.store.alerts()) == 1
            alerted = env.stack.audit_evidence.find(objects={alert().alert_id})  # type: ignore[union-attr]
            assert [h["action"] for _, h in alerted] == [AuditAction.ALERTED.value]

    def test_alerts_are_routed_by_action(self, db_url: str) -> None:
        """alert_security goes to security, alert_compliance to compliance, block_and_alert to both."""
        with case_env(db_url) as env:
            sec = alert("query_volume", action="alert_security")
            comp = alert("large_personal_trade", action="alert_compliance", event_ids=("ev-2",))
            both = alert("unusual_route", action="block_and_alert", event_ids=("ev-3",), symbol="AAPL")
            env.stack.alerts.ingest([sec, comp, both])
            security = {a.alert_id for a in env.stack.store.alerts(queue=Queue.SECURITY)}
            compliance = {a.alert_id for a in env.stack.store.alerts(queue=Queue.COMPLIANCE)}
            assert security == {sec.alert_id, both.alert_id}
            assert compliance == {comp.alert_id, both.alert_id}

    def test_block_and_alert_blocks_the_pattern_at_once(self, db_url: str) -> None:
        """A block_and_alert rule refuses the actor's further orders in that symbol, not others."""
        with case_env(db_url) as env:
            env.stack.alerts.ingest([alert("unusual_route", action="block_and_alert", symbol="AAPL")])
            state = env.stack.state
            assert not state.check_order("alice", symbol="AAPL", account="C-PENSION-1").allowed
            assert state.check_order("alice", symbol="MSFT", account="C-PENSION-1").allowed
            assert state.check_order("bob", symbol="AAPL", account="C-PENSION-1").allowed
            [block] = env.stack.response_store.responses(kind=ResponseKind.BLOCK)
            assert block.created_by == SYSTEM_ACTOR

    def test_a_suspend_action_suspends_the_actor_before_ingest_returns(self, db_url: str) -> None:
        """A rule whose action suspends takes effect at once, in the response state and the role directory."""
        with case_env(db_url) as env:
            env.stack.alerts.ingest([alert("bulk_export", action="suspend_and_alert_security")])
            assert env.stack.state.is_suspended("alice")
            assert "alice" in env.directory.suspended
            [suspension] = env.stack.response_store.responses(kind=ResponseKind.SUSPEND)
            assert suspension.case_id == env.stack.store.alerts()[0].case_id

    def test_an_unknown_action_is_kept_and_reported(self, db_url: str) -> None:
        """An alert whose action no route knows goes to compliance and is named in the result."""
        with case_env(db_url) as env:
            odd = alert(action="page_the_ceo")
            result = env.stack.alerts.ingest([odd])
            assert result.unknown_actions == {odd.alert_id: "page_the_ceo"}
            assert env.stack.store.alert(odd.alert_id).queues == (Queue.COMPLIANCE,)  # type: ignore[union-attr]

    def test_alerts_about_one_subject_share_an_open_case(self, db_url: str) -> None:
        """Two alerts about alice join one case; bob's alert opens another."""
        with case_env(db_url) as env:
            a1, a2 = alert(event_ids=("ev-1",)), alert("after_hours_access", event_ids=("ev-2",))
            b1 = alert(actor="bob", event_ids=("ev-9",))
            env.stack.alerts.ingest([a1, a2, b1])
            stored = {a.alert_id: a.case_id for a in env.stack.store.alerts()}
            assert stored[a1.alert_id] == stored[a2.alert_id] != stored[b1.alert_id]
            assert {c.subject for c in env.stack.store.cases(CaseStatus.OPEN)} == {"alice", "bob"}

    def test_a_new_alert_after_closing_opens_a_new_case(self, db_url: str) -> None:
        """A closed case is not reopened by a later alert about the same subject."""
        with case_env(db_url) as env:
            env.stack.alerts.ingest([alert()])
            [case] = env.stack.store.cases()
            env.stack.cases.close(case.case_id, Disposition.FALSE_POSITIVE, actor="sofia")
            env.stack.alerts.ingest([alert(event_ids=("ev-7",))])
            assert len(env.stack.store.cases(CaseStatus.OPEN)) == 1
            assert env.stack.store.cases(CaseStatus.OPEN)[0].case_id != case.case_id


class TestWorkflow:
    def test_status_moves_forward_and_every_change_is_audited(self, db_url: str) -> None:
        """new -> triage -> escalated -> closed, each step an audited CASE_UPDATED entry."""
        with case_env(db_url) as env:
            a = alert()
            env.stack.alerts.ingest([a])
            env.stack.alerts.triage(a.alert_id, actor="sofia")
            env.stack.alerts.escalate(a.alert_id, actor="sofia")
            closed = env.stack.alerts.close(
                a.alert_id, actor="carol", disposition=Disposition.POLICY_VIOLATION
            )
            assert closed.status is AlertStatus.CLOSED
            assert env.stack.store.alert(a.alert_id).disposition is Disposition.POLICY_VIOLATION  # type: ignore[union-attr]
            updates = [
                h
                for _, h in env.stack.audit_evidence.find(objects={a.alert_id})  # type: ignore[union-attr]
                if h["action"] == AuditAction.CASE_UPDATED.value
            ]
            assert [h["actor"] for h in updates] == ["sofia", "sofia", "carol"]

    def test_a_closed_alert_cannot_move_again(self, db_url: str) -> None:
        """Closing is final: triaging a closed alert is refused with the allowed moves named."""
        with case_env(db_url) as env:
            a = alert()
            env.stack.alerts.ingest([a])
            env.stack.alerts.close(a.alert_id, actor="sofia", disposition=Disposition.FALSE_POSITIVE)
            with pytest.raises(CaseError, match="closed"):
                env.stack.alerts.triage(a.alert_id, actor="sofia")

    def test_times_to_triage_and_close_and_false_positive_rate_are_measured(self, db_url: str) -> None:
        """Metrics per rule come from the clock at arrival, first triage and close."""
        with case_env(db_url) as env:
            fp, real = alert(event_ids=("ev-1",)), alert(event_ids=("ev-2",))
            env.stack.alerts.ingest([fp, real])
            env.clock.advance(600)
            env.stack.alerts.triage(fp.alert_id, actor="sofia")
            env.clock.advance(3000)
            env.stack.alerts.close(fp.alert_id, actor="sofia", disposition=Disposition.FALSE_POSITIVE)
            env.stack.alerts.close(real.alert_id, actor="sofia", disposition=Disposition.POLICY_VIOLATION)
            registry = env.stack.metrics.registry
            labels = {"rule": "query_volume"}
            assert (
                registry.get_sample_value("orderguard_alert_time_to_triage_seconds_sum", labels) == 600 + 3600
            )
            assert registry.get_sample_value("orderguard_alert_time_to_close_seconds_sum", labels) == 3600 * 2
            assert registry.get_sample_value("orderguard_alert_false_positive_ratio", labels) == 0.5
            assert registry.get_sample_value("orderguard_alerts_total", {**labels, "severity": "high"}) == 2
            assert false_positive_rates(env.stack.store.rule_outcomes()) == {"query_volume": 0.5}

    def test_a_restarted_stack_reports_the_false_positive_rate_over_everything_stored(
        self, db_url: str
    ) -> None:
        """A new stack on the same database starts the ratio from the stored dispositions: after one
        false positive closed earlier and one policy violation closed now, it reads 0.5, not 0."""
        with case_env(db_url) as env:
            fp, real = alert(event_ids=("ev-1",)), alert(event_ids=("ev-2",))
            env.stack.alerts.ingest([fp, real])
            env.stack.alerts.close(fp.alert_id, actor="sofia", disposition=Disposition.FALSE_POSITIVE)
            restarted = build_cases(env.stack.config, env.engine, env.log, clock=env.clock)
            labels = {"rule": "query_volume"}
            assert (
                restarted.metrics.registry.get_sample_value("orderguard_alert_false_positive_ratio", labels)
                == 1
            )
            restarted.alerts.close(real.alert_id, actor="sofia", disposition=Disposition.POLICY_VIOLATION)
            assert (
                restarted.metrics.registry.get_sample_value("orderguard_alert_false_positive_ratio", labels)
                == 0.5
            )
