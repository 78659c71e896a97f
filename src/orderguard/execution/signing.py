"""Ed25519 signatures with domain separation, and the approvals built on them.

Every signature covers ``context || 0x00 || message`` where the context names
what is being signed (an order, an approval, an attestation). A signature made
for one purpose therefore never verifies for another: an approver's signature
over an order digest cannot be replayed as the originator's signature, nor as
an approval of a compliance review with the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from orderguard.execution._codec import Reader, Writer

SIGNATURE_BYTES = 64


class Context(Enum):
    ORDER = b"orderguard/order/v1"
    ORDER_BATCH = b"orderguard/order-batch/v1"  # one signature over the concatenated digests of many orders
    ORDER_APPROVAL = b"orderguard/order-approval/v1"
    ATTESTATION = b"orderguard/attestation/v1"
    REVIEW_REQUEST = b"orderguard/review-request/v1"
    REVIEW_APPROVAL = b"orderguard/review-approval/v1"
    KEY_OPERATION_APPROVAL = b"orderguard/key-operation-approval/v1"


class Signer(Protocol):
    """Anything that makes Ed25519 signatures: a loaded private key, or an HSM / KMS handle."""

    def sign(self, data: bytes) -> bytes: ...


def sign(key: Signer, context: Context, message: bytes) -> bytes:
    return key.sign(context.value + b"\x00" + message)


def verify(public: Ed25519PublicKey, signature: bytes, context: Context, message: bytes) -> bool:
    try:
        public.verify(signature, context.value + b"\x00" + message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Approval:
    """An approver's Ed25519 signature over a digest (an order, a review request, a key operation).

    ``digest`` is carried so that an approval given for another version of
    the thing can be told apart (stale) from a forged one.
    """

    approver: str
    key_id: str
    digest: bytes
    signature: bytes

    def encode(self, writer: Writer) -> None:
        writer.text(self.approver).text(self.key_id).blob(self.digest).blob(self.signature)

    @classmethod
    def decode(cls, reader: Reader) -> Approval:
        return cls(reader.text(), reader.text(), reader.blob(), reader.blob())


def approve(
    digest: bytes,
    approver: str,
    key_id: str,
    key: Signer,
    context: Context = Context.ORDER_APPROVAL,
) -> Approval:
    """The approver signs ``digest`` under ``context``."""
    return Approval(approver, key_id, digest, sign(key, context, digest))
