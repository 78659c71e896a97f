"""synthetic_firm and the firm file writer."""

from __future__ import annotations

from pathlib import Path

from orderguard.config import FirmConfig, load_config
from orderguard.domain import Role
from orderguard.sim import Population, scaled_size, synthetic_firm
from orderguard.sim.firm_toml import write_firm_toml


class TestSyntheticFirm:
    def test_keeps_the_base_firm(self, firm: FirmConfig) -> None:
        """Base principals, venues, hours, controls and thresholds are all kept."""
        big = synthetic_firm(firm, seed=1, traders=50, clients=300)
        assert big.principals[: len(firm.principals)] == firm.principals
        assert big.client_accounts[: len(firm.client_accounts)] == firm.client_accounts
        assert (big.venues, big.business_hours, big.controls, big.detectors) == (
            firm.venues,
            firm.business_hours,
            firm.controls,
            firm.detectors,
        )

    def test_population_shape(self, firm: FirmConfig) -> None:
        """Traders sit on desks with personal accounts; some clients share a beneficial owner."""
        big = synthetic_firm(firm, seed=1, traders=200, clients=2_000)
        traders = [p for p in big.principals if Role.TRADER in p.roles]
        assert len(traders) == 200 + 3
        assert all(p.desk and p.personal_accounts for p in traders)
        assert len({p.desk for p in traders}) >= 5
        owners = [c.beneficial_owner for c in big.client_accounts if c.beneficial_owner]
        assert 100 < len(owners) < 1_000
        assert len(set(owners)) < len(owners)
        roles = {r for p in big.principals for r in p.roles}
        assert {Role.ANALYST, Role.SUPPORT, Role.ADMIN, Role.COMPLIANCE} <= roles

    def test_scaled_size(self) -> None:
        """At 10M events the firm has hundreds of traders and thousands of clients."""
        assert scaled_size(10_000_000) == {"traders": 400, "clients": 5_000}
        assert scaled_size(1_000)["traders"] >= 20

    def test_owner_groups_share_a_covering_trader(self, firm: FirmConfig) -> None:
        """Every account of one beneficial owner is covered by the same trader."""
        big = synthetic_firm(firm, seed=3, traders=60, clients=600)
        pop = Population.of(big)
        by_owner: dict[str, set[int]] = {}
        for account, trader in zip(big.client_accounts, pop.coverage, strict=True):
            by_owner.setdefault(account.beneficial_owner or account.owner, set()).add(int(trader))
        assert all(len(traders) == 1 for traders in by_owner.values())


class TestFirmToml:
    def test_round_trip(self, tmp_path: Path, firm: FirmConfig) -> None:
        """The written firm file loads back to an equal configuration."""
        big = synthetic_firm(firm, seed=2, traders=30, clients=100)
        path = write_firm_toml(big, tmp_path / "firm.toml", "generated\nfor a test")
        assert load_config(path) == big
        assert path.read_text().startswith("# generated\n# for a test\n")
