"""Protecting the accused on both backends: who may read cases, assignment under SoD, audited refusals."""

from __future__ import annotations

import pytest

from orderguard.cases.model import AccessDeniedError, CaseError
from orderguard.domain import AuditAction, ReasonCode
from tests.cases_support import CaseEnv, alert, case_env


def _case_of(env: CaseEnv, subject: str) -> str:
    env.stack.alerts.ingest([alert(actor=subject, event_ids=(f"ev-{subject}",))])
    [case] = [c for c in env.stack.store.cases() if c.subject == subject]
    return case.case_id


def _audited(env: CaseEnv, object_id: str, action: AuditAction) -> list[dict[str, object]]:
    assert env.stack.audit_evidence is not None
    return [h for _, h in env.stack.audit_evidence.find(objects={object_id}) if h["action"] == action.value]


class TestReading:
    def test_a_trader_reading_a_case_is_refused_and_audited(self, db_url: str) -> None:
        """bob (a trader) may not read alice's case; the refusal is in the audit log under his name."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "alice")
            with pytest.raises(AccessDeniedError) as refused:
                env.stack.cases.show(case_id, actor="bob")
            assert refused.value.decision.reason is ReasonCode.NOT_AUTHORIZED
            [entry] = _audited(env, case_id, AuditAction.REFUSED)
            assert entry["actor"] == "bob"
            assert entry["decision"] == "deny"
            assert env.log.store.entry(refused.value.audit_index) is not None

    def test_an_outsider_cannot_probe_whether_a_case_exists(self, db_url: str) -> None:
        """bob is refused for a case id that does not exist; an investigator is told it does not exist."""
        with case_env(db_url) as env:
            with pytest.raises(AccessDeniedError):
                env.stack.cases.show("case-nope", actor="bob")
            with pytest.raises(CaseError, match="no case"):
                env.stack.cases.show("case-nope", actor="sofia")
            assert [h["actor"] for h in _audited(env, "case-nope", AuditAction.REFUSED)] == ["bob"]

    def test_every_read_of_a_case_is_audited(self, db_url: str) -> None:
        """Each time sofia opens the case, a VIEWED entry names her."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "alice")
            env.stack.cases.show(case_id, actor="sofia")
            env.stack.cases.show(case_id, actor="carol")
            assert [h["actor"] for h in _audited(env, case_id, AuditAction.VIEWED)] == ["sofia", "carol"]

    def test_the_subject_can_neither_see_nor_change_their_own_case(self, db_url: str) -> None:
        """carol (compliance) is refused her own case, for reading and commenting, and never lists it."""
        with case_env(db_url) as env:
            own = _case_of(env, "carol")
            other = _case_of(env, "alice")
            with pytest.raises(AccessDeniedError):
                env.stack.cases.show(own, actor="carol")
            with pytest.raises(AccessDeniedError):
                env.stack.cases.comment(own, "nothing to see", actor="carol")
            [own_alert] = env.stack.store.alerts(case_id=own)
            with pytest.raises(AccessDeniedError):
                env.stack.alerts.close(own_alert.alert_id, actor="carol", disposition="false_positive")  # type: ignore[arg-type]
            assert [c.case_id for c in env.stack.cases.list_cases(actor="carol")] == [other]
            assert all(a.alert.actor != "carol" for a in env.stack.alerts.list_alerts(actor="carol"))
            assert len(_audited(env, own, AuditAction.REFUSED)) == 2


class TestAssignment:
    def test_assignment_to_the_subject_is_refused(self, db_url: str) -> None:
        """A case about carol cannot be assigned to carol; the refusal is audited."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "carol")
            with pytest.raises(AccessDeniedError) as refused:
                env.stack.cases.assign(case_id, "carol", actor="chris")
            assert refused.value.decision.reason is ReasonCode.CASE_CONFLICT_OF_INTEREST
            assert env.stack.store.case(case_id).assignee is None  # type: ignore[union-attr]
            assert [h["actor"] for h in _audited(env, case_id, AuditAction.REFUSED)] == ["chris"]

    def test_assignment_to_a_same_desk_investigator_is_refused(self, db_url: str) -> None:
        """quinn sits on alice's equities desk and may not investigate her."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "alice")
            with pytest.raises(AccessDeniedError, match="equities desk"):
                env.stack.cases.assign(case_id, "quinn", actor="chris")

    def test_assignment_to_a_declared_conflict_is_refused(self, db_url: str) -> None:
        """carol lists bob in conflicted_with, so she may not take bob's case."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "bob")
            with pytest.raises(AccessDeniedError, match="conflicted_with"):
                env.stack.cases.assign(case_id, "carol", actor="chris")

    def test_an_independent_investigator_is_assigned(self, db_url: str) -> None:
        """sofia has no desk and no declared conflict: the assignment is stored and audited."""
        with case_env(db_url) as env:
            case_id = _case_of(env, "alice")
            env.stack.cases.assign(case_id, "sofia", actor="chris")
            assert env.stack.store.case(case_id).assignee == "sofia"  # type: ignore[union-attr]
            [update] = _audited(env, case_id, AuditAction.CASE_UPDATED)
            assert update["actor"] == "chris"
