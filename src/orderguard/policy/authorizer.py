"""Cedar authorizer: the firm's policy set, validated against the schema at load.

Order facts travel in the request context, in the discrete form the policies use (account type,
desk, venue, whether the venue is approved, whether the order is large, whether its quorum is
met). Because a decision is then a pure function of a small key, decisions are memoised per
(principal, action, resource type, context); the memo is dropped whenever the entities change.
cedarpy's per-call cost (JSON across the Rust boundary) is tens of microseconds, which is the
whole order-path budget: see docs/controls.md and benchmarks/bench_controls.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import cedarpy

from orderguard.domain import Principal, ReasonCode, Role

POLICY_DIR: Final = resources.files("orderguard.policy") / "cedar"
MEMO_LIMIT: Final = 65_536


class PolicyLoadError(Exception):
    """A policy set or schema that cannot be used; names the file and each problem."""


@dataclass(frozen=True, slots=True)
class AuthzDecision:
    """Cedar's answer: allowed or not, the determining policy ids and the reason code they map to."""

    allowed: bool
    reason: ReasonCode
    policy_ids: tuple[str, ...]
    message: str


def _annotations(policy_text: str) -> dict[str, dict[str, str]]:
    """Annotations (``@id``, ``@reason``) of every static policy, keyed by Cedar's positional id."""
    est = json.loads(cedarpy.policies_to_json_str(policy_text))
    return {pid: dict(p.get("annotations", {})) for pid, p in est["staticPolicies"].items()}


class CedarAuthorizer:
    """Evaluates requests against one validated policy set and the firm's users and roles."""

    def __init__(self, policy_text: str, schema_text: str, *, source: str = "<policies>") -> None:
        try:
            self.schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as exc:
            raise PolicyLoadError(f"{source}: the Cedar schema does not parse: {exc}") from None
        try:
            self.policies = cedarpy.PolicySet.from_str(policy_text)
            annotations = _annotations(policy_text)
        except ValueError as exc:
            raise PolicyLoadError(f"{source}: the Cedar policies do not parse: {exc}") from None
        result = cedarpy.validate_policies(policy_text, self.schema)
        if not result.validation_passed:
            problems = "\n".join(f"  {e}" for e in result.errors)
            raise PolicyLoadError(f"{source}: policies do not validate against the schema:\n{problems}")
        self.policy_ids: dict[str, str] = {}
        self.policy_reasons: dict[str, ReasonCode] = {}
        for cedar_id, notes in annotations.items():
            if "id" not in notes:
                raise PolicyLoadError(f'{source}: policy {cedar_id} has no @id annotation; add @id("name")')
            self.policy_ids[cedar_id] = notes["id"]
            if "reason" in notes:
                try:
                    self.policy_reasons[notes["id"]] = ReasonCode(notes["reason"])
                except ValueError:
                    raise PolicyLoadError(
                        f"{source}: policy {notes['id']!r} has @reason({notes['reason']!r}), "
                        f"not a reason code; use one of {', '.join(ReasonCode)}"
                    ) from None
        self.source = source
        self._entities = cedarpy.Entities.from_json_str("[]")
        self._memo: dict[tuple[object, ...], AuthzDecision] = {}

    @classmethod
    def from_files(cls, policy_path: Path | None = None, schema_path: Path | None = None) -> CedarAuthorizer:
        """The shipped policy set and schema, or the given files."""
        policy = (
            policy_path.read_text("utf-8") if policy_path else (POLICY_DIR / "firm.cedar").read_text("utf-8")
        )
        schema_file = POLICY_DIR / "firm.cedarschema"
        schema = schema_path.read_text("utf-8") if schema_path else schema_file.read_text("utf-8")
        return cls(policy, schema, source=str(policy_path or "orderguard/policy/cedar/firm.cedar"))

    def load_principals(
        self, principals: Iterable[Principal], suspended: frozenset[str] = frozenset()
    ) -> None:
        """Replace the entity set with these users and their roles; forgets memoised decisions."""
        entities: list[dict[str, object]] = [
            {"uid": {"type": "Role", "id": role.value}, "attrs": {}, "parents": []} for role in Role
        ]
        for p in principals:
            attrs: dict[str, object] = {"suspended": p.id in suspended}
            if p.desk is not None:
                attrs["desk"] = p.desk
            parents = [{"type": "Role", "id": r.value} for r in sorted(p.roles)]
            entities.append({"uid": {"type": "User", "id": p.id}, "attrs": attrs, "parents": parents})
        self._entities = cedarpy.Entities.from_json_str(json.dumps(entities), self.schema)
        self._memo.clear()

    def authorize(
        self, principal_id: str, action: str, resource_type: str, context: Mapping[str, object]
    ) -> AuthzDecision:
        """Decide one request (memoised). The resource is the type's singleton: facts are in the context."""
        key = (principal_id, action, resource_type, _freeze(context))
        decision = self._memo.get(key)
        if decision is None:
            decision = self.evaluate(principal_id, action, resource_type, context)
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = decision
        return decision

    def evaluate(
        self, principal_id: str, action: str, resource_type: str, context: Mapping[str, object]
    ) -> AuthzDecision:
        """Ask Cedar (no memo): the baseline the benchmark compares against."""
        request = {
            "principal": {"type": "User", "id": principal_id},
            "action": {"type": "Action", "id": action},
            "resource": {"type": resource_type, "id": resource_type.lower()},
            "context": dict(context),
        }
        result = cedarpy.is_authorized(request, self.policies, self._entities)
        return self._decision(principal_id, action, result)

    def _decision(self, principal_id: str, action: str, result: cedarpy.AuthzResult) -> AuthzDecision:
        diagnostics = result.diagnostics
        if diagnostics.errors:
            # An evaluation error skips the policy in Cedar; a control must not pass silently.
            return AuthzDecision(
                False,
                ReasonCode.NOT_AUTHORIZED,
                (),
                f"policy evaluation failed: {'; '.join(diagnostics.errors)}",
            )
        ids = tuple(sorted(self.policy_ids.get(r, r) for r in diagnostics.reasons))
        if result.allowed:
            return AuthzDecision(
                True, ReasonCode.ALLOWED, ids, f"{principal_id} may {action} ({', '.join(ids)})"
            )
        if not ids:
            return AuthzDecision(
                False,
                ReasonCode.NOT_AUTHORIZED,
                (),
                f"no policy permits {principal_id} to {action} (default deny)",
            )
        reasons = [self.policy_reasons.get(i, ReasonCode.NOT_AUTHORIZED) for i in ids]
        reason = min(reasons, key=_REASON_PRIORITY.index)
        return AuthzDecision(
            False, reason, ids, f"{principal_id} may not {action}: forbidden by {', '.join(ids)}"
        )


# When several forbid policies match, the most fundamental reason is reported first.
_REASON_PRIORITY: Final = (
    ReasonCode.PRINCIPAL_SUSPENDED,
    ReasonCode.NOT_AUTHORIZED,
    ReasonCode.SOD_CONFLICTING_ROLES,
    ReasonCode.VENUE_NOT_APPROVED,
    ReasonCode.APPROVAL_REQUIRED,
    *ReasonCode,
)


def _freeze(value: object) -> object:
    """A hashable, order-independent key for a JSON-like context (dict checked first: it is the hot path)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
