"""The sealed execution path: orders signed at the source, sealed to the connector, verified before a venue.

Source: ``sign_order`` then ``seal`` (HPKE to the connector key, with the
controls ``Attestation`` inside), or ``seal_in_session`` (envelope v2: one HPKE
operation per ``SessionSealer`` session, AES-GCM per order). Controls: ``attest_order`` / ``attest``.
Connector: ``ExecutionConnector.handle`` (``EnvelopeVerifier`` + replay cache
+ audit + venue adapter + drop copy). Compliance: ``ComplianceReviewDesk``.
Keys: ``KeyStore`` / ``FileKeyStore``, ``KeyDirectory``, ``KeyCustody``.
See docs/execution.md.
"""

from orderguard.execution.attestation import Attestation, AttestedOrder, attest, attest_order
from orderguard.execution.connector import ConnectorResult, DropCopyRecipient, ExecutionConnector
from orderguard.execution.custody import KeyCustody
from orderguard.execution.dropcopy import DropCopy, DropCopyContents, open_drop_copy
from orderguard.execution.envelope import (
    Envelope,
    EnvelopeError,
    SignedOrder,
    open_envelope,
    seal,
    seal_in_session,
    sign_order,
    sign_orders,
)
from orderguard.execution.intent import IntentError, OrderIntent, new_nonce
from orderguard.execution.key_requests import KeyOperation, KeyOperationRefusedError, KeyOperationRequest
from orderguard.execution.keys import KeyDirectory, KeyPurpose, KeyRecord, key_id_for
from orderguard.execution.keystore import FileKeyStore, KeyStore, KeyStoreError, generate_key
from orderguard.execution.policy import ConnectorPolicy
from orderguard.execution.replay import MemoryReplayCache, ReplayCache
from orderguard.execution.review import ComplianceReviewDesk, ReviewRefusedError, ReviewRequest
from orderguard.execution.session import SessionOpener, SessionSealer
from orderguard.execution.signing import Approval, Context, Signer, approve
from orderguard.execution.venue import ExchangeSimulator, VenueAdapter
from orderguard.execution.verify import EnvelopeVerifier, Verification

__all__ = [
    "Approval",
    "Attestation",
    "AttestedOrder",
    "ComplianceReviewDesk",
    "ConnectorPolicy",
    "ConnectorResult",
    "Context",
    "DropCopy",
    "DropCopyContents",
    "DropCopyRecipient",
    "Envelope",
    "EnvelopeError",
    "EnvelopeVerifier",
    "ExchangeSimulator",
    "ExecutionConnector",
    "FileKeyStore",
    "IntentError",
    "KeyCustody",
    "KeyDirectory",
    "KeyOperation",
    "KeyOperationRefusedError",
    "KeyOperationRequest",
    "KeyPurpose",
    "KeyRecord",
    "KeyStore",
    "KeyStoreError",
    "MemoryReplayCache",
    "OrderIntent",
    "ReplayCache",
    "ReviewRefusedError",
    "ReviewRequest",
    "SessionOpener",
    "SessionSealer",
    "SignedOrder",
    "Signer",
    "VenueAdapter",
    "Verification",
    "approve",
    "attest",
    "attest_order",
    "generate_key",
    "key_id_for",
    "new_nonce",
    "open_drop_copy",
    "open_envelope",
    "seal",
    "seal_in_session",
    "sign_order",
    "sign_orders",
]
