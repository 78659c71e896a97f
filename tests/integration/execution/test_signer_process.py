"""The desk signer in its own process: a real child, a real Unix socket, real keys and signatures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from orderguard.config import FirmConfig
from orderguard.domain import Decision, ReasonCode
from orderguard.execution import Context, FileKeyStore, KeyPurpose, SignedOrder, generate_key
from orderguard.execution.signer_process import SignerProcess, SignerUnavailableError
from orderguard.execution.signing import verify
from tests.conftest import EXAMPLE_FIRM
from tests.execution_support import World

ROGUE = Path(__file__).with_name("rogue_signer.py")


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm)


@pytest.fixture
def signer() -> Iterator[SignerProcess]:
    process = SignerProcess(EXAMPLE_FIRM, options=["--max-orders-per-second", "4"])
    process.start()
    yield process
    process.close()


def verifies(signed: SignedOrder, signer: SignerProcess) -> bool:
    """The signature verifies with the public key the signer announced for the originator."""
    public = Ed25519PublicKey.from_public_bytes(signer.keys[signed.intent.originator].public_raw)
    if signed.batch:
        return signed.digest in signed.batch and verify(
            public, signed.signature, Context.ORDER_BATCH, signed.batch
        )
    return verify(public, signed.signature, Context.ORDER, signed.digest)


class TestSigning:
    def test_the_signer_announces_only_public_order_signing_keys(self, signer: SignerProcess) -> None:
        """One key per principal, each an order-signing record; the socket directory is gone."""
        assert {"alice", "bob"} <= set(signer.keys)
        assert {r.purpose for r in signer.keys.values()} == {KeyPurpose.ORDER_SIGNING}
        assert not signer.socket_path.parent.exists()

    def test_a_batch_gets_one_signature_per_originator_that_verifies(
        self, world: World, signer: SignerProcess
    ) -> None:
        """Two of alice's and one of bob's: a batch signature and a single one, each valid."""
        intents = [world.intent(), world.intent(originator="bob"), world.intent()]
        signed = signer.sign(intents)
        assert all(isinstance(s, SignedOrder) for s in signed)
        orders = [s for s in signed if isinstance(s, SignedOrder)]
        assert all(verifies(s, signer) for s in orders)
        assert orders[0].signature == orders[2].signature != orders[1].signature
        assert orders[1].batch == b""

    def test_the_signers_own_policy_refuses_with_its_reason(
        self, world: World, signer: SignerProcess
    ) -> None:
        """A custodian's order and alice's fifth order in a second are refused; the rest are signed."""
        intents = [world.intent(originator="kim"), *(world.intent() for _ in range(5))]
        outcomes = signer.sign(intents)
        reasons = [o.reason if isinstance(o, Decision) else "signed" for o in outcomes]
        assert reasons == [ReasonCode.SOD_CONFLICTING_ROLES, *["signed"] * 4, ReasonCode.SIGNER_LIMIT]

    def test_the_signer_can_hold_keys_from_a_key_store(self, world: World, tmp_path: Path) -> None:
        """With --key-store it signs with the keys whose private halves the store holds, and only those."""
        store = FileKeyStore(tmp_path / "desk", create=True)
        record, private = generate_key("alice", KeyPurpose.ORDER_SIGNING, 0)
        store.put(record, private)
        store.put(generate_key("bob", KeyPurpose.ORDER_SIGNING, 0)[0])  # public only: not the signer's
        process = SignerProcess(EXAMPLE_FIRM, options=["--key-store", str(store.directory)])
        try:
            process.start()
            assert set(process.keys) == {"alice"}
            assert process.keys["alice"] == record
            (signed,) = process.sign([world.intent()])
            assert isinstance(signed, SignedOrder)
            assert verifies(signed, process)
        finally:
            process.close()


class TestFailClosed:
    def test_a_killed_signer_refuses_this_and_every_later_request(
        self, world: World, signer: SignerProcess
    ) -> None:
        """The error names the desk signer, its pid, how it ended and the fix."""
        assert signer.process is not None
        signer.process.kill()
        signer.process.wait(10)
        with pytest.raises(SignerUnavailableError) as caught:
            signer.sign([world.intent()])
        message = str(caught.value)
        assert f"desk signer process {signer.pid}" in message
        assert "killed by signal 9" in message
        assert "restart `orderguard serve`" in message
        with pytest.raises(SignerUnavailableError, match="desk signer"):
            signer.sign([world.intent()])

    @pytest.mark.parametrize(
        ("mode", "said"),
        [("wrong-key", "not alice's key"), ("exit", "leaving"), ("silent", "did not answer within 1 s")],
    )
    def test_a_misbehaving_signer_is_stopped(self, world: World, mode: str, said: str) -> None:
        """A signature under another's key, a vanished child or a silent one: refused and stopped."""
        process = SignerProcess(EXAMPLE_FIRM, reply_timeout_s=1.0, command=[sys.executable, str(ROGUE), mode])
        try:
            process.start()
            with pytest.raises(SignerUnavailableError, match=said):
                process.sign([world.intent()])
            assert process.process is not None
            assert process.process.wait(10) is not None
        finally:
            process.close()
