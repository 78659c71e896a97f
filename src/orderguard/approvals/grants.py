"""Role grants: checked for separation of duties at request time and again when applied.

Only a role administrator may propose a grant, nobody may propose one for themselves, and a
grant that would break a conflict set is refused outright (SOD_CONFLICTING_ROLES). Everything
else becomes a ROLE_GRANT approval request; the grant applies only after its quorum.
"""

from __future__ import annotations

from orderguard.approvals.engine import ApprovalEngine
from orderguard.approvals.model import ApprovalRequest, SensitiveAction
from orderguard.domain import AuditAction, AuditEntry, Decision, ReasonCode, Role


class RoleGrants:
    """Propose and apply role grants through the approval engine."""

    def __init__(self, engine: ApprovalEngine) -> None:
        self.engine = engine

    @staticmethod
    def object_id(target: str, role: Role) -> str:
        return f"{target}:{role.value}"

    def propose(
        self, actor: str, target: str, role: Role, now: int
    ) -> tuple[Decision, ApprovalRequest | None]:
        """Open an approval request for granting ``role`` to ``target``, or refuse with a reason code."""
        directory = self.engine.directory
        proposer = directory.get(actor)
        refusal: Decision | None = None
        if actor == target:
            refusal = Decision.deny(
                ReasonCode.SOD_SELF_APPROVAL, f"{actor} may not grant a role to themselves"
            )
        elif proposer is None or Role.ROLE_ADMIN not in proposer.roles:
            refusal = Decision.deny(ReasonCode.NOT_AUTHORIZED, f"{actor} is not a role administrator")
        else:
            check = directory.check_grant(target, role)
            refusal = None if check.allowed else check
        object_id = self.object_id(target, role)
        if refusal is not None:
            self.engine.audit.append(
                AuditEntry(
                    kind="role",
                    action=AuditAction.REFUSED,
                    object_id=object_id,
                    actor=actor,
                    ts=now,
                    after={"target": target, "role": role.value},
                    decision="deny",
                    reason_code=refusal.reason.value,
                    policy_ids=refusal.policy_ids,
                )
            )
            return refusal, None
        return self.engine.open(
            SensitiveAction.ROLE_GRANT, object_id, actor, {"target": target, "role": role.value}, now
        )

    def apply(self, request_id: str, *, actor: str, target: str, role: Role, now: int) -> Decision:
        """Apply an approved grant: quorum, digest and SoD (again) are checked, then the role is added."""
        content: dict[str, object] = {"target": target, "role": role.value}
        object_id = self.object_id(target, role)
        check = self.engine.directory.check_grant(target, role)
        if not check.allowed:
            return self.engine.refuse(request_id, actor, now, check)
        decision = self.engine.execute(
            request_id, SensitiveAction.ROLE_GRANT, object_id, content, actor=actor, now=now
        )
        if decision.allowed:
            self.engine.audit.append(
                AuditEntry(
                    kind="role",
                    action=AuditAction.ROLE_GRANTED,
                    object_id=object_id,
                    actor=actor,
                    ts=now,
                    after=content,
                    decision="allow",
                    reason_code=ReasonCode.ALLOWED.value,
                )
            )
            self.engine.directory.grant(target, role, actor=actor, ts=now, request_id=request_id)
        return decision
