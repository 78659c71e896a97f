"""The firm's people and accounts as the generator needs them, and a synthetic firm of a chosen size.

``synthetic_firm`` keeps everything of the base firm (principals, venues, hours, thresholds) and adds
generated traders on desks with personal accounts, client accounts (some sharing a beneficial owner),
analysts, support staff, admins and compliance officers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orderguard.config import ClientAccountConfig, FirmConfig, PrincipalConfig
from orderguard.domain import Role

EXTRA_DESKS = ("etf", "small_caps", "international", "program", "financials", "energy", "healthcare", "tech")


def scaled_size(events: int) -> dict[str, int]:
    """A population for a day of ``events`` events: hundreds of traders, thousands of clients at 10M."""
    return {
        "traders": int(np.clip(events // 25_000, 24, 400)),
        "clients": int(np.clip(events // 1_000, 200, 5_000)),
    }


def synthetic_firm(
    base: FirmConfig,
    *,
    seed: int,
    traders: int,
    clients: int,
    analysts: int | None = None,
    support: int | None = None,
    admins: int | None = None,
    compliance: int | None = None,
    shared_owner_share: float = 0.15,
) -> FirmConfig:
    """The base firm plus a generated population; ids are t0001, C-000001, ... and never clash with base."""
    rng = np.random.default_rng([seed, 0x5EED])
    base_desks = sorted(
        {p.desk for p in base.principals if p.desk} | {c.desk for c in base.client_accounts if c.desk}
    )
    desks = (
        base_desks
        + [d for d in EXTRA_DESKS if d not in base_desks][: max(0, traders // 40 - len(base_desks))]
    )
    people: list[PrincipalConfig] = []
    for i in range(1, traders + 1):
        accounts = (f"PA-t{i:04d}",) if rng.random() > 0.1 else (f"PA-t{i:04d}", f"PA-t{i:04d}-ira")
        people.append(
            PrincipalConfig(
                id=f"t{i:04d}",
                name=f"Trader {i:04d}",
                roles=(Role.TRADER,),
                desk=desks[(i - 1) % len(desks)],
                personal_accounts=accounts,
            )
        )
    others = (
        ("an", "Analyst", Role.ANALYST, analysts if analysts is not None else max(2, traders // 10), True),
        ("su", "Support", Role.SUPPORT, support if support is not None else max(2, traders // 20), False),
        ("ad", "Admin", Role.ADMIN, admins if admins is not None else max(1, traders // 40), True),
        (
            "co",
            "Compliance",
            Role.COMPLIANCE,
            compliance if compliance is not None else max(1, traders // 50),
            False,
        ),
    )
    for prefix, title, role, count, has_account in others:
        for i in range(1, count + 1):
            pid = f"{prefix}{i:03d}"
            people.append(
                PrincipalConfig(
                    id=pid,
                    name=f"{title} {i:03d}",
                    roles=(role,),
                    personal_accounts=(f"PA-{pid}",) if has_account else (),
                )
            )
    return base.model_copy(
        update={
            "principals": (*base.principals, *people),
            "client_accounts": (*base.client_accounts, *_clients(rng, clients, desks, shared_owner_share)),
        }
    )


def _clients(
    rng: np.random.Generator, count: int, desks: list[str], shared_owner_share: float
) -> list[ClientAccountConfig]:
    """Client accounts; runs of 2-3 consecutive accounts on one desk share a holding company."""
    result: list[ClientAccountConfig] = []
    i = 0
    group = 0
    while i < count:
        size = int(rng.integers(2, 4)) if rng.random() < shared_owner_share else 1
        size = min(size, count - i)
        desk = desks[int(rng.integers(0, len(desks)))]
        owner = None
        if size > 1:
            group += 1
            owner = f"Holding {group:05d}"
        for _ in range(size):
            i += 1
            result.append(
                ClientAccountConfig(
                    id=f"C-{i:06d}", owner=f"Client {i:06d}", beneficial_owner=owner, desk=desk
                )
            )
    return result


@dataclass(frozen=True)
class Population:
    """Who trades, covers, views and logs in: index arrays over ``employees`` and ``accounts``."""

    employees: tuple[str, ...]
    accounts: tuple[str, ...]  # client accounts (indices used by orders and views) then personal accounts
    client_count: int
    traders: np.ndarray  # employee indices holding the trader role
    trader_desk: np.ndarray  # desk index of each trader (parallel to traders)
    desks: tuple[str, ...]
    account_desk: np.ndarray  # desk index of each client account
    coverage: np.ndarray  # employee index of the trader covering each client account
    compliance: np.ndarray  # employee indices of compliance officers
    back_office: np.ndarray  # analysts, support, admins, compliance: who runs data exports
    personal_owner: (
        np.ndarray
    )  # employee index owning each personal account (parallel to accounts[client_count:])
    client_owner: np.ndarray  # beneficial-owner index of each client account (accounts of one owner share it)

    @classmethod
    def of(cls, firm: FirmConfig) -> Population:
        """Derive the population from a firm; every beneficial-owner group is covered by one trader."""
        employees = tuple(p.id for p in firm.principals)
        index = {pid: i for i, pid in enumerate(employees)}
        trader_ids = [p for p in firm.principals if Role.TRADER in p.roles and p.desk]
        if not trader_ids:
            raise ValueError(f"firm {firm.firm!r} has no trader with a desk; the day needs someone to trade")
        desks = tuple(sorted({p.desk for p in trader_ids if p.desk}))
        desk_index = {d: i for i, d in enumerate(desks)}
        desk_traders: dict[str, list[int]] = {d: [] for d in desks}
        for p in trader_ids:
            desk_traders[str(p.desk)].append(index[p.id])
        clients = firm.client_accounts
        if not clients:
            raise ValueError(f"firm {firm.firm!r} has no client accounts; the day needs someone to trade for")
        account_desk = np.array([desk_index.get(c.desk or "", -1) for c in clients], dtype=np.int64)
        group_trader: dict[str, int] = {}
        coverage = np.empty(len(clients), dtype=np.int64)
        turn = 0
        for i, c in enumerate(clients):
            owner = c.beneficial_owner or c.owner
            if owner not in group_trader:
                pool = desk_traders.get(c.desk or "") or [index[p.id] for p in trader_ids]
                group_trader[owner] = pool[turn % len(pool)]
                turn += 1
            coverage[i] = group_trader[owner]
            if account_desk[i] < 0:
                account_desk[i] = desk_index[str(firm.principals[coverage[i]].desk)]
        personal = [(a, index[p.id]) for p in firm.principals for a in p.personal_accounts]
        owner_index = {owner: i for i, owner in enumerate(group_trader)}
        back_roles = {Role.ANALYST, Role.SUPPORT, Role.ADMIN, Role.COMPLIANCE}
        return cls(
            employees=employees,
            accounts=tuple(c.id for c in clients) + tuple(a for a, _ in personal),
            client_count=len(clients),
            traders=np.array([index[p.id] for p in trader_ids], dtype=np.int64),
            trader_desk=np.array([desk_index[str(p.desk)] for p in trader_ids], dtype=np.int64),
            desks=desks,
            account_desk=account_desk,
            coverage=coverage,
            compliance=np.array(
                [i for i, p in enumerate(firm.principals) if Role.COMPLIANCE in p.roles], dtype=np.int64
            ),
            back_office=np.array(
                [i for i, p in enumerate(firm.principals) if back_roles & set(p.roles)], dtype=np.int64
            ),
            personal_owner=np.array([owner for _, owner in personal], dtype=np.int64),
            client_owner=np.array(
                [owner_index[c.beneficial_owner or c.owner] for c in clients], dtype=np.int64
            ),
        )
