"""Table-driven policy tests: a YAML file of requests and the decisions the firm expects.

    firm: firm.toml                # relative to the YAML file (or --config)
    time: "2026-11-20T15:00:00Z"   # default instant of every case
    tests:
      - name: a trader enters an order for her own desk
        principal: alice
        action: submit_order
        order: {account: C-PENSION-1, venue: XNYS, notional: 20000}
        expect: allow
        policies: [trader-own-desk-orders]

Order actions take ``order`` (account, venue, notional, quorum_met); others act on the action's
resource type. ``reason`` and ``policies`` are optional and compared exactly when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orderguard.config import FirmConfig, load_config
from orderguard.domain import ReasonCode, parse_ts
from orderguard.domain.events import TimestampError
from orderguard.policy.authorizer import AuthzDecision, CedarAuthorizer
from orderguard.policy.context import BusinessHoursClock, order_context
from orderguard.policy.directory import RoleDirectory
from orderguard.policy.sod import conflict_sets

ORDER_ACTIONS: Final = frozenset({"submit_order", "modify_order", "cancel_order", "view_order"})
RESOURCE_OF: Final = {
    "read_market_data": "MarketData",
    "read_customer_data": "CustomerRecord",
    "manage_infrastructure": "Infrastructure",
    "read_code": "CodeRepo",
    "write_code": "CodeRepo",
    "view_case": "Case",
    "work_case": "Case",
    "read_audit": "AuditLog",
    "request_audit_erasure": "AuditLog",
    "erase_audit_payload": "AuditLog",
    "request_approval": "ApprovalRequest",
    "approve_request": "ApprovalRequest",
    "reject_request": "ApprovalRequest",
    "request_preclearance": "PersonalTrading",
    "propose_role_grant": "RoleAssignment",
    "break_glass": "BreakGlassAccess",
    "review_break_glass": "BreakGlassAccess",
    "manage_own_credentials": "Credential",
    "manage_credentials": "Credential",
    "ingest_events": "EventStream",
    "enter_orders": "OrderEntry",
    "run_surveillance": "Surveillance",
    "assign_case": "Case",
    "request_lift": "CaseResponse",
    "lift_suspension": "CaseResponse",
    "release_response": "CaseResponse",
    **dict.fromkeys(ORDER_ACTIONS, "Order"),
}


class PolicyTestError(Exception):
    """A policy-test file that cannot be run; names the file, the key path and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderFacts(_Strict):
    account: str
    venue: str = "XNYS"
    notional: float = Field(10_000.0, ge=0)
    quorum_met: bool = False


class PolicyCase(_Strict):
    name: str
    principal: str
    action: str
    order: OrderFacts | None = None
    time: str | None = None
    suspended: bool = False
    expect: Literal["allow", "deny"]
    reason: ReasonCode | None = None
    policies: tuple[str, ...] | None = None


class PolicyTestFile(_Strict):
    firm: str | None = None
    time: str = "2026-11-20T15:00:00Z"
    tests: tuple[PolicyCase, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    decision: AuthzDecision
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def load_policy_tests(path: Path) -> PolicyTestFile:
    """Parse and validate a policy-test file."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise PolicyTestError(f"{path}: no such policy-test file") from None
    except yaml.YAMLError as exc:
        raise PolicyTestError(f"{path}: not valid YAML: {exc}") from None
    try:
        return PolicyTestFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
            lines.append(f"{path}: {where or '(top level)'}: {err['msg']}")
        raise PolicyTestError("\n".join(lines)) from None


def run_policy_tests(
    path: Path, firm_path: Path | None = None, authorizer: CedarAuthorizer | None = None
) -> list[CaseResult]:
    """Run every case of ``path`` against the firm's policies; raises PolicyTestError on bad input."""
    spec = load_policy_tests(path)
    if firm_path is None:
        if spec.firm is None:
            raise PolicyTestError(f"{path}: no firm file; add 'firm: PATH' or pass --config PATH")
        firm_path = path.parent / spec.firm
    firm = load_config(firm_path)
    authorizer = authorizer or CedarAuthorizer.from_files()
    principals = [p.to_domain() for p in firm.principals]
    directory = RoleDirectory(principals, conflict_sets(firm.controls.sod_conflicts), authorizer)
    clock = BusinessHoursClock(firm.business_hours)
    results = []
    for i, case in enumerate(spec.tests):
        where = f"{path}: tests[{i}] ({case.name})"
        if directory.get(case.principal) is None:
            raise PolicyTestError(f"{where}.principal: {case.principal!r} is not in {firm_path}")
        if case.suspended:
            directory.suspend(case.principal)
        try:
            decision = _decide(
                case, firm=firm, authorizer=authorizer, clock=clock, default_time=spec.time, where=where
            )
        finally:
            if case.suspended:
                directory.reinstate(case.principal)
        results.append(CaseResult(case, decision, _problems(case, decision)))
    return results


def _decide(
    case: PolicyCase,
    *,
    firm: FirmConfig,
    authorizer: CedarAuthorizer,
    clock: BusinessHoursClock,
    default_time: str,
    where: str,
) -> AuthzDecision:
    resource = RESOURCE_OF.get(case.action)
    if resource is None:
        raise PolicyTestError(
            f"{where}.action: unknown action {case.action!r}; one of {', '.join(RESOURCE_OF)}"
        )
    try:
        business_hours = clock(parse_ts(case.time or default_time))
    except TimestampError as exc:
        raise PolicyTestError(f"{where}.time: {exc}") from None
    if case.action not in ORDER_ACTIONS:
        return authorizer.evaluate(case.principal, case.action, resource, {"business_hours": business_hours})
    if case.order is None:
        raise PolicyTestError(f"{where}.order: {case.action} needs order: {{account: ..., venue: ...}}")
    account = firm.accounts().get(case.order.account)
    if account is None:
        raise PolicyTestError(f"{where}.order.account: {case.order.account!r} is not an account of the firm")
    context = order_context(
        account,
        venue=case.order.venue,
        venue_approved=case.order.venue in firm.approved_venues(),
        business_hours=business_hours,
        large=case.order.notional > firm.controls.large_order_notional,
        quorum_met=case.order.quorum_met,
    )
    return authorizer.evaluate(case.principal, case.action, resource, context)


def _problems(case: PolicyCase, decision: AuthzDecision) -> tuple[str, ...]:
    problems = []
    got = "allow" if decision.allowed else "deny"
    if got != case.expect:
        problems.append(f"expected {case.expect}, got {got} ({decision.message})")
    if case.reason is not None and decision.reason is not case.reason:
        problems.append(f"expected reason {case.reason.value}, got {decision.reason.value}")
    if case.policies is not None and tuple(sorted(case.policies)) != decision.policy_ids:
        problems.append(f"expected policies {sorted(case.policies)}, got {list(decision.policy_ids)}")
    return tuple(problems)
