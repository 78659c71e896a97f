"""A whole sealed execution path on one machine for tests: keys, firm, controls, connector, audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from orderguard.config import FirmConfig, PrincipalConfig
from orderguard.domain import AuditEntry, Decision, Role, Side
from orderguard.execution import (
    Approval,
    Attestation,
    ConnectorPolicy,
    DropCopyRecipient,
    EnvelopeVerifier,
    ExchangeSimulator,
    ExecutionConnector,
    KeyDirectory,
    KeyPurpose,
    KeyRecord,
    MemoryReplayCache,
    OrderIntent,
    ReplayCache,
    SignedOrder,
    approve,
    attest_order,
    generate_key,
    new_nonce,
    seal,
    sign_order,
)
from orderguard.execution.envelope import SESSION_WRAP_PREFIX, seal_in_session
from orderguard.execution.session import SessionSealer

START_NS = 1_763_700_000_000_000_000  # 2025-11-21T04:40:00Z
SECOND = 1_000_000_000


class MemoryAuditSink:
    """A real, append-only, in-memory AuditSink: the index is the position in the list."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1

    @property
    def last(self) -> AuditEntry:
        return self.entries[-1]


class Clock:
    """A settable clock in epoch nanoseconds."""

    def __init__(self, now_ns: int = START_NS) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: float) -> None:
        self.now_ns += int(seconds * SECOND)


def with_quorum(firm: FirmConfig, quorum: int) -> FirmConfig:
    """The firm with another large-order quorum."""
    controls = firm.controls.model_copy(update={"large_order_quorum": quorum})
    return firm.model_copy(update={"controls": controls})


def with_trading_approver(firm: FirmConfig) -> FirmConfig:
    """The firm plus Tess, a trader who is also an order approver (to test self-approval)."""
    tess = PrincipalConfig(
        id="tess", name="Tess Trader", roles=(Role.TRADER, Role.ORDER_APPROVER), desk="equities"
    )
    return firm.model_copy(update={"principals": (*firm.principals, tess)})


# name -> (owner, purpose): every key the test world holds.
KEY_PLAN: dict[str, tuple[str, KeyPurpose]] = {
    "alice": ("alice", KeyPurpose.ORDER_SIGNING),
    "bob": ("bob", KeyPurpose.ORDER_SIGNING),
    "desk-equities": ("desk:equities", KeyPurpose.ORDER_SIGNING),
    "kim-orders": ("kim", KeyPurpose.ORDER_SIGNING),  # should never have been issued: custody refuses it
    "alice-approval": ("alice", KeyPurpose.APPROVAL),
    "carol-approval": ("carol", KeyPurpose.APPROVAL),
    "chris-approval": ("chris", KeyPurpose.APPROVAL),
    "olga-approval": ("olga", KeyPurpose.APPROVAL),
    "olga-approval-2": ("olga", KeyPurpose.APPROVAL),
    "ana-approval": ("ana", KeyPurpose.APPROVAL),
    "tess": ("tess", KeyPurpose.ORDER_SIGNING),  # tess exists only in with_trading_approver(firm)
    "tess-approval": ("tess", KeyPurpose.APPROVAL),
    "controls": ("service:controls", KeyPurpose.ATTESTATION),
    "connector": ("service:connector-1", KeyPurpose.CONNECTOR),
    "other-connector": ("service:connector-2", KeyPurpose.CONNECTOR),
    "surveillance": ("service:surveillance", KeyPurpose.SURVEILLANCE),
}


@dataclass
class World:
    """Everything on the sealed path, with named keys and a settable clock."""

    firm: FirmConfig
    clock: Clock = field(default_factory=Clock)
    audit: MemoryAuditSink = field(default_factory=MemoryAuditSink)
    replay: ReplayCache = field(default_factory=MemoryReplayCache)
    venue: ExchangeSimulator = field(default_factory=lambda: ExchangeSimulator(seed=7))
    records: dict[str, KeyRecord] = field(default_factory=dict)
    private: dict[str, Ed25519PrivateKey | X25519PrivateKey] = field(default_factory=dict)
    directory: KeyDirectory = field(default_factory=KeyDirectory)
    counter: int = 0
    sessions: bool = False  # seal envelope v2 (session key) instead of v1 (single-shot HPKE)

    def __post_init__(self) -> None:
        # Keys passed in (records, private, directory) are reused: a restarted connector keeps its keys.
        for name, (owner, purpose) in KEY_PLAN.items() if not self.records else ():
            record, private = generate_key(owner, purpose, self.clock.now_ns - 3600 * SECOND)
            self.records[name], self.private[name] = record, private
            self.directory.add(record)
        self.policy = ConnectorPolicy.from_firm(self.firm)
        self._sessions: dict[str, SessionSealer] = {}
        self.verifier = EnvelopeVerifier(
            {self.records["connector"].key_id: self.x25519("connector")}, self.directory, self.policy
        )
        self.connector = ExecutionConnector(
            "service:connector-1",
            verifier=self.verifier,
            replay=self.replay,
            audit=self.audit,
            venue=self.venue,
            surveillance=DropCopyRecipient(
                self.records["surveillance"].key_id, self.x25519("surveillance").public_key()
            ),
            clock=self.clock,
        )

    def ed25519(self, name: str) -> Ed25519PrivateKey:
        key = self.private[name]
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def x25519(self, name: str) -> X25519PrivateKey:
        key = self.private[name]
        assert isinstance(key, X25519PrivateKey)
        return key

    def key_id(self, name: str) -> str:
        return self.records[name].key_id

    def intent(self, **changes: object) -> OrderIntent:
        """A small buy order by alice on XNYS, created now, valid for 30 s."""
        self.counter += 1
        fields: dict[str, object] = {
            "order_id": f"ORD-{self.counter:06d}",
            "originator": "alice",
            "account": "C-PENSION-1",
            "symbol": "AAPL",
            "side": Side.BUY,
            "qty": Decimal(100),
            "price": Decimal("187.25"),
            "venue": "XNYS",
            "nonce": new_nonce(),
            "created_ns": self.clock.now_ns,
            "expires_ns": self.clock.now_ns + 30 * SECOND,
        }
        fields.update(changes)
        return OrderIntent(**fields)  # type: ignore[arg-type]

    def large_intent(self, **changes: object) -> OrderIntent:
        """A 1.5 million notional order: above the example firm's 1 million threshold."""
        return self.intent(qty=Decimal(10_000), price=Decimal(150), **changes)

    def sign(self, intent: OrderIntent, signer: str = "alice") -> SignedOrder:
        return sign_order(intent, self.key_id(signer), self.ed25519(signer))

    def approval(self, digest: bytes, key_name: str) -> Approval:
        return approve(digest, self.records[key_name].owner, self.key_id(key_name), self.ed25519(key_name))

    def attestation(
        self, digest: bytes, approvals: tuple[Approval, ...] = (), decision: Decision | None = None
    ) -> Attestation:
        return attest_order(
            digest,
            decision or Decision.allow("controls passed", ("policy.default",)),
            approvals,
            controls_key_id=self.key_id("controls"),
            key=self.ed25519("controls"),
            issued_ns=self.clock.now_ns,
        )

    def seal(self, signed: SignedOrder, attestation: Attestation | None, to: str = "connector") -> bytes:
        """Seal an already signed order (and its attestation) to the named connector key."""
        if self.sessions:
            return seal_in_session(signed, attestation, self.session(to)).to_bytes()
        return seal(signed, attestation, self.key_id(to), self.x25519(to).public_key()).to_bytes()

    def session(self, to: str = "connector") -> SessionSealer:
        """The sealing session (envelope v2) to the named connector key, made on first use."""
        if to not in self._sessions:
            self._sessions[to] = SessionSealer(
                self.key_id(to), self.x25519(to).public_key(), SESSION_WRAP_PREFIX
            )
        return self._sessions[to]

    def envelope(
        self,
        intent: OrderIntent | None = None,
        *,
        signer: str = "alice",
        approvers: tuple[str, ...] = (),
        attested: bool = True,
        to: str = "connector",
    ) -> bytes:
        """Sign, attest (with approvals from the named approval keys) and seal; the serialized envelope."""
        signed = self.sign(intent or self.intent(), signer)
        approvals = tuple(self.approval(signed.digest, name) for name in approvers)
        attestation = self.attestation(signed.digest, approvals) if attested else None
        return self.seal(signed, attestation, to)
