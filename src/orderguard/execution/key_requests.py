"""What a key custodian asks custody for (issue, rotate, revoke), its digest, and custody's refusal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from orderguard.domain import Decision
from orderguard.execution.keys import KeyPurpose


class KeyOperation(StrEnum):
    ISSUE = "issue"
    ROTATE = "rotate"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class KeyOperationRequest:
    """What a custodian asks for. ``public_key`` is the new key (issue, rotate); ``key_id`` the old one."""

    operation: KeyOperation
    requested_by: str
    owner: str
    purpose: KeyPurpose
    reason: str
    requested_ns: int
    public_key: bytes = b""
    key_id: str | None = None
    overlap_ns: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "format": "orderguard.key-operation.v1",
            "operation": self.operation.value,
            "requested_by": self.requested_by,
            "owner": self.owner,
            "purpose": self.purpose.value,
            "reason": self.reason,
            "requested_ns": self.requested_ns,
            "public_key": self.public_key.hex(),
            "key_id": self.key_id,
            "overlap_ns": self.overlap_ns,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> KeyOperationRequest:
        key_id = data.get("key_id")
        return cls(
            operation=KeyOperation(str(data["operation"])),
            requested_by=str(data["requested_by"]),
            owner=str(data["owner"]),
            purpose=KeyPurpose(str(data["purpose"])),
            reason=str(data["reason"]),
            requested_ns=int(str(data["requested_ns"])),
            public_key=bytes.fromhex(str(data.get("public_key", ""))),
            key_id=None if key_id is None else str(key_id),
            overlap_ns=int(str(data.get("overlap_ns", 0))),
        )

    def digest(self) -> bytes:
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).digest()


class KeyOperationRefusedError(Exception):
    """Custody refused an operation; ``decision`` says why. The refusal was audited."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(str(decision))
        self.decision = decision
