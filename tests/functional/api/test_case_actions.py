"""Acting on a case over HTTP: assignment (never the subject nor a conflicted investigator), blocks
and their release, suspension lifts behind a four-eyes approval, queue filters and case metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.api.scan_world import ApiWorld, api_world

PENSION = {
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 10,
    "price": 100,
    "venue": "XNYS",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    with api_world(tmp_path_factory.mktemp("case-actions"), scan=True) as built:
        yield built


def _order(world: ApiWorld, who: str, order_id: str, symbol: str = "AAPL") -> dict[str, object]:
    """The decision on ``who``'s buy of ``symbol`` for the equities pension account."""
    ticket = {**PENSION, "symbol": symbol, "order_id": order_id}
    placed = world.post(who, "/api/v1/orders", json=ticket)
    assert placed.status_code in {200, 201}, placed.text
    decision = placed.json()["decision"]
    assert isinstance(decision, dict)
    return decision


class TestAssignment:
    def test_the_subject_is_never_assigned_their_own_case(self, world: ApiWorld) -> None:
        """sofia (security) cannot be given the case about her own late-night read: 403 with
        CASE_CONFLICT_OF_INTEREST over HTTP; alice, a trader, is refused as no investigator."""
        url = f"/api/v1/cases/{world.case_of('sofia', reader='carol')}/assign"
        refused = world.post("carol", url, json={"assignee": "sofia"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "CASE_CONFLICT_OF_INTEREST")
        assert "is the subject" in refused.json()["error"]["message"]
        url = f"/api/v1/cases/{world.case_of('alice')}/assign"
        trader = world.post("sofia", url, json={"assignee": "alice"})
        assert (trader.status_code, trader.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")
        assert "neither the compliance nor the security role" in trader.json()["error"]["message"]

    def test_a_conflicted_investigator_is_refused(self, world: ApiWorld) -> None:
        """carol is conflicted with tom in the firm file: she cannot be given his case."""
        refused = world.post(
            "sofia", f"/api/v1/cases/{world.case_of('tom')}/assign", json={"assignee": "carol"}
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "CASE_CONFLICT_OF_INTEREST")
        assert "conflicted_with" in refused.json()["error"]["message"]

    def test_an_independent_investigator_is_assigned(self, world: ApiWorld) -> None:
        """chris assigned to alice's case shows as its assignee."""
        assigned = world.post(
            "carol", f"/api/v1/cases/{world.case_of('alice')}/assign", json={"assignee": "chris"}
        )
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["case"]["assignee"] == "chris"

    def test_unknown_assignee_and_trader_caller_are_refused(self, world: ApiWorld) -> None:
        """An assignee outside the firm file is a 400 naming the field; a trader gets Cedar's 403."""
        url = f"/api/v1/cases/{world.case_of('alice')}/assign"
        unknown = world.post("sofia", url, json={"assignee": "mallory"})
        assert (unknown.status_code, unknown.json()["error"]["message"][:9]) == (400, "assignee:")
        trader = world.post("bob", url, json={"assignee": "sofia"})
        assert (trader.status_code, trader.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")


class TestBlockAndRelease:
    def test_a_block_refuses_the_pattern_until_released(self, world: ApiWorld) -> None:
        """Blocking alice's AAPL orders refuses her next AAPL order over HTTP (PATTERN_BLOCKED) and
        not her MSFT one; releasing it, with the reason kept on the case, lets AAPL through again."""
        case_id = world.case_of("alice")
        taken = world.post(
            "sofia",
            f"/api/v1/cases/{case_id}/responses",
            json={"kind": "block", "reason": "bought AAPL after viewing it", "symbol": "AAPL"},
        )
        assert taken.status_code == 201, taken.text
        block = taken.json()
        assert (block["kind"], block["pattern"], block["active"]) == (
            "block",
            "actor=alice, symbol=AAPL",
            True,
        )
        assert _order(world, "alice", "AL-B1")["reason_code"] == "PATTERN_BLOCKED"
        assert _order(world, "alice", "AL-B2", symbol="MSFT")["allowed"] is True
        released = world.post(
            "carol", f"/api/v1/responses/{block['response_id']}/release", json={"reason": "reviewed, benign"}
        )
        assert released.status_code == 200, released.text
        assert (released.json()["active"], released.json()["lifted_by"]) == (False, "carol")
        assert _order(world, "alice", "AL-B3")["allowed"] is True
        comments = world.get("sofia", f"/api/v1/cases/{case_id}").json()["comments"]
        assert any(block["response_id"] in c["what"] and "reviewed, benign" in c["what"] for c in comments)
        again = world.post("carol", f"/api/v1/responses/{block['response_id']}/release", json={"reason": "r"})
        assert (again.status_code, again.json()["error"]["code"]) == (400, "BAD_CHANGE")

    def test_pattern_fields_must_fit_the_kind(self, world: ApiWorld) -> None:
        """A block without a symbol, account or venue, or a suspension with one, is a 400."""
        url = f"/api/v1/cases/{world.case_of('alice')}/responses"
        empty = world.post("sofia", url, json={"kind": "block", "reason": "r"})
        assert (empty.status_code, empty.json()["error"]["code"]) == (400, "BAD_CHANGE")
        mixed = world.post("sofia", url, json={"kind": "suspend", "reason": "r", "venue": "XNYS"})
        assert mixed.status_code == 400
        assert mixed.json()["error"]["message"].startswith("venue:")

    def test_a_suspension_is_not_released_but_lifted(self, world: ApiWorld) -> None:
        """The release route refuses tom's scan-time suspension (it needs the approval-gated lift),
        and a trader cannot reach the release route at all."""
        url = f"/api/v1/responses/{_suspension_of(world, 'tom')}/release"
        refused = world.post("sofia", url, json={"reason": "r"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "BAD_CHANGE")
        trader = world.post("bob", url, json={"reason": "r"})
        assert (trader.status_code, trader.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")


class TestLiftingASuspension:
    def test_a_lift_needs_an_approval_by_someone_else(self, world: ApiWorld) -> None:
        """Lifting tom's suspension: requested by sofia; refused before approval; tom (suspended)
        and sofia (the requester) cannot approve; chris can; then the lift reinstates tom at once
        and the spent approval cannot lift again."""
        response_id = _suspension_of(world, "tom")
        opened = world.post("sofia", f"/api/v1/responses/{response_id}/lift-request")
        assert opened.status_code == 201, opened.text
        approval_id = opened.json()["approval_id"]
        lift = f"/api/v1/responses/{response_id}/lift"
        early = world.post("sofia", lift, json={"approval_id": approval_id})
        assert early.status_code == 403
        assert early.json()["error"]["code"] != "NOT_AUTHORIZED"  # the approval engine refused, not Cedar
        [pending] = [
            r
            for r in world.get("chris", "/api/v1/approvals/pending").json()
            if r["request_id"] == approval_id
        ]
        assert pending["action"] == "suspension_lift"
        vote, url = {"digest": pending["digest"]}, f"/api/v1/approvals/{approval_id}/approve"
        assert world.post("tom", url, json=vote).json()["error"]["code"] == "PRINCIPAL_SUSPENDED"
        assert world.post("sofia", url, json=vote).json()["decision"]["reason_code"] == "SOD_SELF_APPROVAL"
        assert world.post("chris", url, json=vote).json()["decision"]["allowed"] is True
        lifted = world.post("sofia", lift, json={"approval_id": approval_id})
        assert lifted.status_code == 200, lifted.text
        assert (lifted.json()["active"], lifted.json()["approval_id"]) == (False, approval_id)
        assert world.get("tom", "/api/v1/me").status_code == 200
        reused = world.post("sofia", lift, json={"approval_id": approval_id})
        assert reused.status_code == 400  # no longer an active suspension

    def test_traders_cannot_request_or_lift(self, world: ApiWorld) -> None:
        """Cedar refuses both lift routes to a trader, before the cases stage is asked."""
        for route in ("lift-request", "lift"):
            refused = world.post("bob", f"/api/v1/responses/rsp-x/{route}", json={"approval_id": "a"})
            assert (refused.status_code, refused.json()["error"]["code"]) == (403, "NOT_AUTHORIZED")


class TestQueuesAndMetrics:
    def test_the_queue_filter(self, world: ApiWorld) -> None:
        """queue=security holds alice's access alerts, queue=compliance tom's front-run; each alert
        listed is in the queue asked for; an unknown queue is a 422."""
        security = world.get("sofia", "/api/v1/alerts", params={"queue": "security"}).json()
        compliance = world.get("sofia", "/api/v1/alerts", params={"queue": "compliance"}).json()
        assert {"query_volume", "after_hours_access"} <= {a["rule"] for a in security}
        assert "front_running" in {a["rule"] for a in compliance}
        assert all("security" in a["queues"] for a in security)
        assert all("compliance" in a["queues"] for a in compliance)
        assert world.get("sofia", "/api/v1/alerts", params={"queue": "hr"}).status_code == 422

    def test_metrics_carry_the_case_desk(self, world: ApiWorld) -> None:
        """/metrics shows alerts per rule, and closing an alert as a false positive shows its
        time to close and the rule's false-positive ratio."""
        [alert] = world.get("sofia", "/api/v1/alerts", params={"rule": "front_running"}).json()
        closed = world.post(
            "sofia",
            f"/api/v1/alerts/{alert['alert_id']}/status",
            json={"status": "closed", "disposition": "false_positive"},
        )
        assert closed.status_code == 200, closed.text
        text = world.client.get("/metrics").text
        assert 'orderguard_alerts_total{rule="front_running",severity="high"} 1.0' in text
        assert 'orderguard_alert_time_to_close_seconds_count{rule="front_running"} 1.0' in text
        assert 'orderguard_alert_false_positive_ratio{rule="front_running"} 1.0' in text
        assert "orderguard_http_requests_total" in text


def _suspension_of(world: ApiWorld, subject: str) -> str:
    assert world.ctx.cases is not None
    [suspension] = [
        r
        for r in world.ctx.cases.response_store.responses(subject=subject, active_only=True)
        if r.kind.value == "suspend"
    ]
    return suspension.response_id
