"""The desk signer's own policy: traders only, within a lifetime, at a trader's pace and volume."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderguard.config import FirmConfig
from orderguard.domain import ReasonCode
from orderguard.execution.signer_policy import NS, DeskSignerPolicy, SignerLimits
from tests.execution_support import SECOND, Clock, World


def policy(firm: FirmConfig, clock: Clock, limits: SignerLimits = SignerLimits()) -> DeskSignerPolicy:  # noqa: B008
    return DeskSignerPolicy((p.to_domain() for p in firm.principals), limits, clock)


@pytest.fixture
def world(firm: FirmConfig) -> World:
    return World(firm)


class TestWhom:
    def test_a_traders_order_is_signed_and_counted(self, world: World) -> None:
        """Alice is a trader: no refusal, and the signature is on the signer's record."""
        desk = policy(world.firm, world.clock)
        assert desk.check(world.intent()) is None
        assert (desk.signed, desk.refused) == (1, 0)

    @pytest.mark.parametrize(
        ("originator", "reason"),
        [
            ("kim", ReasonCode.SOD_CONFLICTING_ROLES),
            ("carol", ReasonCode.NOT_AUTHORIZED),
            ("mallory", ReasonCode.NOT_AUTHORIZED),
        ],
    )
    def test_no_order_is_signed_for_a_custodian_a_non_trader_or_a_stranger(
        self, world: World, originator: str, reason: ReasonCode
    ) -> None:
        """Kim holds key custody, Carol is compliance, Mallory is not in the firm file."""
        refusal = policy(world.firm, world.clock).check(world.intent(originator=originator))
        assert refusal is not None
        assert refusal.reason is reason
        assert originator in refusal.message

    def test_an_order_living_longer_than_the_connector_allows_is_refused(self, world: World) -> None:
        """Over 300 s between created and expires: the signer will not sign it for later use."""
        intent = world.intent(expires_ns=world.clock.now_ns + 301 * SECOND)
        refusal = policy(world.firm, world.clock).check(intent)
        assert refusal is not None
        assert refusal.reason is ReasonCode.EXPIRED


class TestLimits:
    def test_orders_per_second_are_counted_per_originator_on_the_signers_clock(self, world: World) -> None:
        """The fourth order in a second is refused; bob is not held up; a second later alice goes on."""
        desk = policy(world.firm, world.clock, SignerLimits(max_orders_per_second=3))
        assert [desk.check(world.intent()) for _ in range(3)] == [None] * 3
        refusal = desk.check(world.intent())
        assert refusal is not None
        assert refusal.reason is ReasonCode.SIGNER_LIMIT
        assert desk.check(world.intent(originator="bob")) is None
        world.clock.advance(1)
        assert desk.check(world.intent()) is None

    def test_notional_per_minute_is_capped_and_frees_up_as_the_minute_passes(self, world: World) -> None:
        """100 x 187.25 = 18,725 per order: two fit under 40,000, a third does not until a minute on."""
        desk = policy(world.firm, world.clock, SignerLimits(max_notional_per_minute=Decimal(40_000)))
        assert desk.check(world.intent()) is None
        world.clock.advance(30)
        assert desk.check(world.intent()) is None
        refusal = desk.check(world.intent())
        assert refusal is not None
        assert refusal.reason is ReasonCode.SIGNER_LIMIT
        world.clock.now_ns += 30 * NS + 1
        assert desk.check(world.intent()) is None  # the first order left the minute

    def test_a_refused_order_does_not_count(self, world: World) -> None:
        """Refusals are not signatures: they use up neither the rate nor the volume."""
        desk = policy(world.firm, world.clock, SignerLimits(max_orders_per_second=1))
        assert desk.check(world.intent()) is None
        assert desk.check(world.intent()) is not None
        world.clock.advance(1)
        assert desk.check(world.intent()) is None
        assert (desk.signed, desk.refused) == (2, 1)


class TestOrderTime:
    def test_orders_dated_into_one_future_minute_cannot_be_banked_over_many_minutes(
        self, world: World
    ) -> None:
        """Signed a minute apart on the signer's clock, orders dated into one later minute share its cap."""
        signer_clock = Clock(0)
        desk = DeskSignerPolicy(
            (p.to_domain() for p in world.firm.principals),
            SignerLimits(max_notional_per_minute=Decimal(40_000)),
            signer_clock,
            wall_clock=world.clock,
        )
        later = (world.clock.now_ns // (60 * NS) + 60) * 60 * NS  # the start of a minute an hour ahead
        dated = {"created_ns": later, "expires_ns": later + 30 * SECOND}
        assert desk.check(world.intent(**dated)) is None
        signer_clock.advance(61)
        assert desk.check(world.intent(**dated)) is None
        signer_clock.advance(61)
        refusal = desk.check(world.intent(**dated))
        assert refusal is not None
        assert refusal.reason is ReasonCode.SIGNER_LIMIT
        next_minute = {"created_ns": later + 60 * NS, "expires_ns": later + 90 * SECOND}
        assert desk.check(world.intent(**next_minute)) is None

    def test_orders_per_second_are_counted_by_order_time_too(self, world: World) -> None:
        """Three orders dated into one second, signed seconds apart: the fourth is refused."""
        signer_clock = Clock(0)
        desk = DeskSignerPolicy(
            (p.to_domain() for p in world.firm.principals),
            SignerLimits(max_orders_per_second=3),
            signer_clock,
            wall_clock=world.clock,
        )
        for _ in range(3):
            assert desk.check(world.intent()) is None
            signer_clock.advance(2)
        refusal = desk.check(world.intent())
        assert refusal is not None
        assert refusal.reason is ReasonCode.SIGNER_LIMIT

    def test_order_times_past_expiry_are_forgotten(self, world: World) -> None:
        """A replayed past day (order times expired by the wall clock) is counted on the signer's clock."""
        signer_clock = Clock(0)
        desk = DeskSignerPolicy(
            (p.to_domain() for p in world.firm.principals),
            SignerLimits(max_orders_per_second=3),
            signer_clock,
            wall_clock=lambda: world.clock.now_ns + 3600 * SECOND,
        )
        for _ in range(6):
            assert desk.check(world.intent()) is None
            signer_clock.advance(1)
