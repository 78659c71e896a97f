"""Erasing a payload: gated by legal hold and approval, audited, and every proof still verifies."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.erasure import ErasureRefusedError, ErasureRequest, erase
from orderguard.audit.keys import NoteSigner
from orderguard.audit.proofs import verify_inclusion
from orderguard.audit.verify import verify_log
from orderguard.domain.decisions import Decision, ReasonCode
from tests.integration.audit.helpers import keyset, open_log, order_entry


@dataclass
class InMemoryAuthority:
    """A real, minimal ErasureAuthority: a set of held object ids and a table of granted approvals."""

    held: set[str] = field(default_factory=set)
    approvals: dict[str, set[int]] = field(default_factory=dict)  # approval id -> indexes it allows erasing

    def is_held(self, object_id: str) -> bool:
        return object_id in self.held

    def check_approval(self, request: ErasureRequest) -> Decision:
        if request.index in self.approvals.get(request.approval, set()):
            return Decision.allow(
                f"approval {request.approval} covers entry {request.index}", ("erasure-4eyes",)
            )
        return Decision.deny(ReasonCode.APPROVAL_REQUIRED, f"approval {request.approval!r} does not cover it")


class TestErasure:
    def test_erased_payload_keeps_every_proof(self, db_url: str) -> None:
        """After an approved erasure the payload is gone, the erasure is logged and the log verifies."""
        signer = NoteSigner.generate("k")
        authority = InMemoryAuthority(approvals={"APR-1": {2}})
        with open_log(db_url, signer) as log:
            for number in range(5):
                log.append(order_entry(number))
            size_before, root_before = log.head()
            erasure_index = erase(
                log, authority, index=2, requested_by="dpo", reason="court order 17", approval="APR-1"
            )
            assert erasure_index == 5
            stored = log.store.entry(2)
            assert stored is not None
            assert stored[3] is None
            assert stored[4] is None
            assert log.root_at(size_before) == root_before
            verify_inclusion(2, log.head()[0], stored[1], log.inclusion_proof(2), log.head()[1])
            header = decode_leaf(log.store.entry(erasure_index)[2]).header  # type: ignore[index]
            assert (header["action"], header["object_id"], header["actor"]) == ("erased", "2", "dpo")
            log.checkpoint()
        report = verify_log(log.engine, keyset(signer))
        assert report.ok, report.findings

    def test_legal_hold_refuses_even_with_approval(self, db_url: str) -> None:
        """A held object's entry is not erased, whatever the approval says, and the refusal is logged."""
        authority = InMemoryAuthority(held={"ord-1"}, approvals={"APR-1": {1}})
        with open_log(db_url) as log:
            for number in range(3):
                log.append(order_entry(number))
            with pytest.raises(ErasureRefusedError) as refused:
                erase(log, authority, index=1, requested_by="dpo", reason="request", approval="APR-1")
            assert refused.value.decision.reason is ReasonCode.LEGAL_HOLD
            stored = log.store.entry(1)
            assert stored is not None
            assert stored[4] is not None
            header = decode_leaf(log.store.entry(refused.value.audit_index)[2]).header  # type: ignore[index]
            assert (header["action"], header["reason_code"]) == ("refused", "LEGAL_HOLD")

    def test_missing_approval_refuses(self, sqlite_url: str) -> None:
        """Without an approval covering the entry, erasure is refused with the approval's reason code."""
        with open_log(sqlite_url) as log:
            log.append(order_entry(0))
            with pytest.raises(ErasureRefusedError) as refused:
                erase(
                    log, InMemoryAuthority(), index=0, requested_by="dpo", reason="request", approval="none"
                )
            assert refused.value.decision.reason is ReasonCode.APPROVAL_REQUIRED

    def test_bad_requests_name_the_problem(self, sqlite_url: str) -> None:
        """Erasing a missing or already erased entry, or without a reason, raises a clear error."""
        authority = InMemoryAuthority(approvals={"A": {0}})
        with open_log(sqlite_url) as log:
            log.append(order_entry(0))
            with pytest.raises(ValueError, match="no audit entry at index 9"):
                erase(log, authority, index=9, requested_by="dpo", reason="r", approval="A")
            with pytest.raises(ValueError, match="needs a reason"):
                erase(log, authority, index=0, requested_by="dpo", reason=" ", approval="A")
            erase(log, authority, index=0, requested_by="dpo", reason="r", approval="A")
            with pytest.raises(ValueError, match="already erased"):
                erase(log, authority, index=0, requested_by="dpo", reason="r", approval="A")
