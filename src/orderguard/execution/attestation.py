"""The controls attestation: the controls service signs what it decided about one or more orders.

Each entry names an order digest, the decision (allowed or not, reason code),
the ids of the policies that decided, and the approvals the controls counted,
each an approver's own signature over that same digest. One attestation may
cover a micro-batch of orders: the connector verifies its signature once and
caches the result, which keeps the per-order cost at one Ed25519 verification
(the originator's) for ordinary orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orderguard.domain import Decision, ReasonCode
from orderguard.execution._codec import Reader, Writer, blobs, u64
from orderguard.execution.signing import Approval, Context, Signer, sign

MAGIC: Final = b"OGA1"
MAX_ENTRIES: Final = 4096
_ZERO: Final = u64(0)
_ONE: Final = u64(1)
_REASONS: Final = {reason.value: reason for reason in ReasonCode}


@dataclass(frozen=True, slots=True)
class AttestedOrder:
    """What the controls decided about one order digest."""

    digest: bytes
    allowed: bool
    reason: ReasonCode
    policy_ids: tuple[str, ...] = ()
    approvals: tuple[Approval, ...] = ()

    def encode(self, writer: Writer) -> None:
        writer.raw(self.encoded())

    def encoded(self) -> bytes:
        """This entry's bytes in an attestation body."""
        parts = [
            blobs(self.digest),
            _ONE if self.allowed else _ZERO,
            blobs(self.reason.encode("utf-8")),  # a StrEnum is its value (.value is slow)
            u64(len(self.policy_ids)),
            blobs(*(policy_id.encode("utf-8") for policy_id in self.policy_ids)),
            u64(len(self.approvals)),
        ]
        if self.approvals:
            writer = Writer()
            for approval in self.approvals:
                approval.encode(writer)
            parts.append(writer.getvalue())
        return b"".join(parts)

    @classmethod
    def decode(cls, reader: Reader) -> AttestedOrder:
        digest = reader.blob()
        allowed_flag = reader.u64()
        if allowed_flag not in (0, 1):
            raise ValueError(f"attestation: decision flag {allowed_flag} is neither 0 nor 1")
        reason_text = reader.text()
        reason = _REASONS.get(reason_text) or ReasonCode(reason_text)  # ReasonCode() names a bad one
        policy_ids = tuple(reader.text() for _ in range(_count(reader)))
        approvals = tuple(Approval.decode(reader) for _ in range(_count(reader)))
        return cls(digest, allowed_flag == 1, reason, policy_ids, approvals)


def _count(reader: Reader) -> int:
    count = reader.u64()
    if count > MAX_ENTRIES:
        raise ValueError(f"attestation: list of {count} items is implausible")
    return count


@dataclass(frozen=True, slots=True)
class Attestation:
    """Signed by the controls service key ``controls_key_id`` at ``issued_ns``."""

    controls_key_id: str
    issued_ns: int
    orders: tuple[AttestedOrder, ...]
    signature: bytes

    @staticmethod
    def body(controls_key_id: str, issued_ns: int, orders: tuple[AttestedOrder, ...]) -> bytes:
        head = b"".join((MAGIC, blobs(controls_key_id.encode("utf-8")), u64(issued_ns), u64(len(orders))))
        return head + b"".join([order.encoded() for order in orders])

    def signed_bytes(self) -> bytes:
        return self.body(self.controls_key_id, self.issued_ns, self.orders)

    def encode(self) -> bytes:
        return Writer().blob(self.signed_bytes()).blob(self.signature).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Attestation:
        return cls.decode_signed(data)[0]

    @classmethod
    def decode_signed(cls, data: bytes) -> tuple[Attestation, bytes]:
        """The attestation and the exact body bytes its signature covers (verify those, not a re-encoding)."""
        outer = Reader(data, "attestation")
        body, signature = outer.blob(), outer.blob()
        outer.finish()
        reader = Reader(body, "attestation body")
        if reader.raw(4) != MAGIC:
            raise ValueError("attestation: unknown format (magic is not OGA1)")
        key_id, issued_ns = reader.text(), reader.u64()
        orders = tuple(AttestedOrder.decode(reader) for _ in range(_count(reader)))
        reader.finish()
        return cls(key_id, issued_ns, orders, signature), body

    def entry_for(self, digest: bytes) -> AttestedOrder | None:
        for order in self.orders:
            if order.digest == digest:
                return order
        return None


def attest(
    orders: tuple[AttestedOrder, ...], controls_key_id: str, key: Signer, issued_ns: int
) -> Attestation:
    """Sign the controls' decisions about ``orders`` (one order or a micro-batch)."""
    return attest_encoded(orders, controls_key_id, key, issued_ns)[0]


def attest_encoded(
    orders: tuple[AttestedOrder, ...], controls_key_id: str, key: Signer, issued_ns: int
) -> tuple[Attestation, bytes]:
    """``attest``, with the attestation's encoding (``Attestation.encode()``) built from the same body."""
    if not 0 < len(orders) <= MAX_ENTRIES:
        raise ValueError(f"an attestation covers 1..{MAX_ENTRIES} orders, got {len(orders)}")
    body = Attestation.body(controls_key_id, issued_ns, orders)
    signature = sign(key, Context.ATTESTATION, body)
    encoded = Writer().blob(body).blob(signature).getvalue()
    return Attestation(controls_key_id, issued_ns, orders, signature), encoded


def attest_order(
    digest: bytes,
    decision: Decision,
    approvals: tuple[Approval, ...],
    *,
    controls_key_id: str,
    key: Signer,
    issued_ns: int,
) -> Attestation:
    """The attestation for a single order, from the controls' ``Decision``."""
    entry = AttestedOrder(digest, decision.allowed, decision.reason, decision.policy_ids, approvals)
    return attest((entry,), controls_key_id, key, issued_ns)
