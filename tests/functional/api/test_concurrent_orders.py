"""Order entry under concurrent requests: each answered once, audited once, tokens checked once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orderguard.api import create_app
from orderguard.app import AppContext, build_app_context, shifted_clock
from orderguard.audit.encoding import decode_leaf
from orderguard.auth.tokens import TokenInfo, TokenService
from orderguard.config import FirmConfig
from orderguard.domain import parse_ts

BUSINESS_HOURS = parse_ts("2026-11-20T16:00:00Z")  # 11:00 in New York on a Friday
ORDER = {
    "account": "C-PENSION-1",
    "symbol": "AAPL",
    "side": "buy",
    "qty": 10,
    "price": 190.5,
    "venue": "XNYS",
}


class CountingTokenService(TokenService):
    """The real token service, counting the checks that reach the database."""

    def __init__(self, inner: TokenService) -> None:
        super().__init__(inner.engine)
        self.checks = 0

    def check(self, token: str) -> TokenInfo:
        if self.remembered(token) is None:
            self.checks += 1
        return super().check(token)


@pytest.fixture
def ctx(firm: FirmConfig, tmp_path: Path) -> Iterator[AppContext]:
    context = build_app_context(
        firm,
        f"sqlite:///{tmp_path / 'orderguard.db'}",
        audit_key=tmp_path / "audit.key",
        execute=False,
        clock=shifted_clock(BUSINESS_HOURS),
    )
    context.tokens = CountingTokenService(context.tokens)
    yield context
    context.close()


async def _post_all(ctx: AppContext, bodies: list[dict[str, object]], token: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=create_app(ctx, web=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {token}"}
        posts = (client.post("/api/v1/orders", json=body, headers=headers) for body in bodies)
        return list(await asyncio.gather(*posts))


def _audited_created(ctx: AppContext) -> Counter[str]:
    created: Counter[str] = Counter()
    for _idx, _hash, leaf, _salt, _payload in ctx.audit.store.iter_entries():
        header = decode_leaf(leaf).header
        if header["kind"] == "order" and header["action"] == "created":
            created[str(header["object_id"])] += 1
    return created


class TestConcurrentOrderEntry:
    def test_every_accepted_order_is_audited_exactly_once(self, ctx: AppContext) -> None:
        """A hundred orders posted at once are all accepted, and each is audited once as created."""
        token = ctx.tokens.issue("alice")
        bodies: list[dict[str, object]] = [{**ORDER, "order_id": f"C-{n}"} for n in range(100)]
        answers = asyncio.run(_post_all(ctx, bodies, token))
        assert {a.status_code for a in answers} == {200}
        accepted = [a.json()["order_id"] for a in answers if a.json()["accepted"]]
        assert sorted(accepted) == sorted(f"C-{n}" for n in range(100))
        assert _audited_created(ctx) == Counter(accepted)
        assert len({a.json()["audit_index"] for a in answers}) == 100

    def test_a_repeated_id_in_flight_is_entered_once(self, ctx: AppContext) -> None:
        """Ten concurrent posts of one order id: one is accepted, nine are refused as REPLAYED."""
        token = ctx.tokens.issue("alice")
        answers = asyncio.run(_post_all(ctx, [{**ORDER, "order_id": "SAME"}] * 10, token))
        results = Counter(a.json()["decision"]["reason_code"] for a in answers)
        assert results == Counter({"ALLOWED": 1, "REPLAYED": 9})
        assert _audited_created(ctx) == Counter({"SAME": 1})


class TestTokenChecks:
    def test_concurrent_requests_share_one_token_check(self, ctx: AppContext) -> None:
        """Requests arriving together with a token not checked yet cause one database check, not one each."""
        token = ctx.tokens.issue("alice")
        bodies: list[dict[str, object]] = [{**ORDER, "order_id": f"T-{n}"} for n in range(20)]
        answers = asyncio.run(_post_all(ctx, bodies, token))
        assert {a.status_code for a in answers} == {200}
        counting = ctx.tokens
        assert isinstance(counting, CountingTokenService)
        assert counting.checks == 1

    def test_a_revoked_token_is_refused_for_every_waiting_request(self, ctx: AppContext) -> None:
        """A shared check that fails answers 401 to each request that waited on it; nothing is entered."""
        token = ctx.tokens.issue("alice")
        token_id = token.split("_")[1]
        assert ctx.tokens.revoke(token_id, principal="alice")
        bodies: list[dict[str, object]] = [{**ORDER, "order_id": f"R-{n}"} for n in range(5)]
        answers = asyncio.run(_post_all(ctx, bodies, token))
        assert {a.status_code for a in answers} == {401}
        assert {a.json()["error"]["code"] for a in answers} == {"BAD_CREDENTIALS"}
        assert not _audited_created(ctx)
