"""Evidence, comments and timelines on both backends."""

from __future__ import annotations

import pytest

from orderguard.approvals.model import SensitiveAction
from orderguard.cases.evidence import verify_proof
from orderguard.cases.model import CaseError
from orderguard.domain import EventKind, Side
from tests.cases_support import SECOND, T0, CaseEnv, alert, case_env, event, store_events


def _case(env: CaseEnv) -> str:
    store_events(
        env.events,
        [
            event("t-login", EventKind.LOGIN, "alice", T0 - 60 * SECOND),
            event("t-view", EventKind.ORDER_VIEW, "alice", T0, account="C-PENSION-1", records=30),
            event(
                "t-pa",
                EventKind.PERSONAL_TRADE,
                "bob",
                T0 + SECOND,
                account="PA-alice",
                symbol="AAPL",
                side=Side.BUY,
                qty=5,
                price=190.0,
            ),
            event("t-other", EventKind.LOGIN, "bob", T0),
            event("t-late", EventKind.LOGIN, "alice", T0 + 3 * 86_400 * SECOND),
        ],
    )
    env.stack.alerts.ingest([alert(event_ids=("t-view",))])
    [case] = env.stack.store.cases()
    return case.case_id


class TestEvidence:
    def test_attached_audit_entries_carry_proofs_that_verify(self, db_url: str) -> None:
        """Each attached audit entry verifies against its tree head; a changed header or proof does not."""
        with case_env(db_url) as env:
            case_id = _case(env)
            items = env.stack.cases.attach_alert_evidence(case_id, actor="sofia")
            proofs = [i.content for i in items if i.kind == "audit_entry"]
            assert [i.ref for i in items if i.kind == "event"] == ["t-view"]
            assert proofs
            assert all(verify_proof(p) for p in proofs)
            forged = {**proofs[0], "header": {**proofs[0]["header"], "actor": "nobody"}}  # type: ignore[dict-item]
            assert not verify_proof(forged)
            bent = {**proofs[-1], "index": int(proofs[-1]["index"]) + 1}  # type: ignore[call-overload]
            assert not verify_proof(bent)

    def test_an_unknown_event_attaches_nothing(self, db_url: str) -> None:
        """Attaching a missing event id fails naming it, and the known ones are not attached either."""
        with case_env(db_url) as env:
            case_id = _case(env)
            with pytest.raises(CaseError, match="ghost"):
                env.stack.cases.attach_events(case_id, ["t-view", "ghost"], actor="sofia")
            assert env.stack.cases.show(case_id, actor="sofia").evidence == ()

    def test_comments_are_kept_in_order(self, db_url: str) -> None:
        """Comments are numbered per case and shown in the order written."""
        with case_env(db_url) as env:
            case_id = _case(env)
            env.stack.cases.comment(case_id, "called the desk head", actor="sofia")
            env.stack.cases.comment(case_id, "badge logs requested", actor="carol")
            view = env.stack.cases.show(case_id, actor="chris")
            assert [(c.seq, c.author, c.body) for c in view.comments] == [
                (1, "sofia", "called the desk head"),
                (2, "carol", "badge logs requested"),
            ]


class TestTimeline:
    def test_the_timeline_merges_events_and_audited_actions_around_the_alert(self, db_url: str) -> None:
        """Her login and view, a trade on her personal account and her approval request appear;
        other people's events and events days later do not."""
        with case_env(db_url) as env:
            case_id = _case(env)
            env.approvals.open(
                SensitiveAction.LARGE_ORDER, "ord-1", "alice", {"actor": "alice"}, T0 + 5 * SECOND
            )
            timeline = env.stack.cases.timeline(case_id, actor="sofia")
            assert [(t.source, t.ref) for t in timeline if t.source == "event"] == [
                ("event", "t-login"),
                ("event", "t-view"),
                ("event", "t-pa"),
            ]
            [approval] = [t for t in timeline if t.source == "audit"]
            assert approval.kind == "approval:requested"
            assert [t.ts_ns for t in timeline] == sorted(t.ts_ns for t in timeline)
