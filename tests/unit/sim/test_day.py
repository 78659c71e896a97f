"""generate_day: reproducible, plausible, and clean of every surveillance pattern by construction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orderguard.config import FirmConfig
from orderguard.ingest import EVENT_SCHEMA, read_events
from orderguard.ingest.writer import write_events
from orderguard.sim import EVENT_MIX, SimDay, generate_day, scaled_size, synthetic_firm
from tests.unit.sim.brute_force import findings

DATE = dt.date(2026, 11, 20)
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def big_firm(firm: FirmConfig) -> FirmConfig:
    return synthetic_firm(firm, seed=11, **scaled_size(20_000))


@pytest.fixture(scope="module")
def day(big_firm: FirmConfig) -> SimDay:
    return generate_day(events=20_000, seed=11, date=DATE, firm=big_firm)


def _of(day: SimDay, kind: str) -> pa.Table:
    """The events of one kind, ts as epoch ns (Python datetimes stop at microseconds)."""
    table = day.table.filter(pc.equal(day.table.column("kind"), kind))
    return table.set_column(2, "ts", table.column("ts").cast(pa.int64()))


def _local_hours(table: pa.Table) -> np.ndarray:
    local = [dt.datetime.fromtimestamp(t / 1e9, tz=NY) for t in table.column("ts").to_pylist()]
    return np.array([t.hour + t.minute / 60 for t in local])


class TestClean:
    def test_no_rule_matches_the_base_day(self, day: SimDay) -> None:
        """A brute-force run of every rule over a 20k-event day finds nothing."""
        assert findings(day.table, day.firm) == {}

    def test_brute_force_checker_can_fail(self, day: SimDay) -> None:
        """The checker sees a planted large personal trade, after-hours view and split order (not vacuous)."""
        ts_type = EVENT_SCHEMA.field("ts").type
        trades = _of(day, "personal_trade").slice(0, 1)
        big = trades.set_column(8, "qty", pa.array([1e6])).set_column(1, "event_id", pa.array(["planted-1"]))
        big = big.set_column(2, "ts", big.column("ts").cast(ts_type))
        view = _of(day, "order_view").slice(0, 1)
        late_ts = pa.array([view.column("ts")[0].as_py() + 16 * 3600 * 10**9]).cast(ts_type)
        late = view.set_column(2, "ts", late_ts).set_column(1, "event_id", pa.array(["planted-2"]))
        fill, sibling = _fill_with_sibling_account(day)
        mirror = fill.set_column(7, "side", pc.if_else(pc.equal(fill.column("side"), "buy"), "sell", "buy"))
        mirror = mirror.set_column(5, "account", pa.array([sibling]))
        mirror = mirror.set_column(1, "event_id", pa.array(["planted-3"]))
        mirror = mirror.set_column(2, "ts", pa.array([fill.column("ts")[0].as_py() + 10**10]).cast(ts_type))
        order = _of(day, "client_order").filter(pc.greater_equal(pc.field("qty"), 2_000)).slice(0, 1)
        ahead = trades.set_column(1, "event_id", pa.array(["planted-4"]))
        ahead = ahead.set_column(
            2, "ts", pa.array([order.column("ts")[0].as_py() - 30 * 10**9]).cast(ts_type)
        )
        for name in ("symbol", "side"):
            ahead = ahead.set_column(ahead.schema.get_field_index(name), name, order.column(name))
        ahead = ahead.set_column(8, "qty", pa.array([1.0]))
        split = pa.concat_tables([order] * 3)
        split = split.set_column(1, "event_id", pa.array(["planted-5", "planted-6", "planted-7"]))
        each = 400_000 / float(order.column("price")[0].as_py())  # three orders of 400,000
        split = split.set_column(8, "qty", pa.array([each] * 3))
        split = split.set_column(2, "ts", pa.array([order.column("ts")[0].as_py() + k for k in range(3)]))
        split = split.set_column(2, "ts", split.column("ts").cast(ts_type))
        planted = [big, late, mirror, ahead, split]
        found = findings(pa.concat_tables([day.table, *planted]), day.firm)
        assert found["large_personal_trade"] == ["planted-1"]
        assert found["after_hours"] == ["planted-2"]
        assert len(found["wash_trading"]) == 1
        assert "planted-3" in found["wash_trading"][0]
        assert found["front_running"][0].startswith("planted-4")
        assert "planted-7" in found["structuring"]

    @pytest.mark.parametrize("seed", [1, 2])
    def test_other_seeds_are_clean(self, big_firm: FirmConfig, seed: int) -> None:
        """Other seeds are clean too (the guarantee is by construction, not by luck)."""
        other = generate_day(events=20_000, seed=seed, date=DATE, firm=big_firm)
        assert findings(other.table, other.firm) == {}

    def test_example_firm_small_day_is_clean(self, firm: FirmConfig) -> None:
        """The bare example firm (as the demo uses it) gives a clean 2,000-event day."""
        small = generate_day(events=2_000, seed=1, date=DATE, firm=firm)
        assert small.table.num_rows == 2_000
        assert findings(small.table, small.firm) == {}

    def test_crowded_views_are_clean(self, firm: FirmConfig) -> None:
        """A firm with few accounts per viewer gets shorter view slots and fewer records, still clean."""
        small = synthetic_firm(firm, seed=4, traders=20, clients=10)
        crowded = generate_day(events=20_000, seed=4, date=DATE, firm=small)
        records = _of(crowded, "order_view").column("records").to_numpy()
        assert records.max() < 10
        assert findings(crowded.table, crowded.firm) == {}


class TestReproducible:
    def test_same_arguments_same_table(self, big_firm: FirmConfig, day: SimDay) -> None:
        """The same seed, date, size and firm give an equal table."""
        again = generate_day(events=20_000, seed=11, date=DATE, firm=big_firm)
        assert again.table.equals(day.table)

    def test_same_arguments_same_bytes(self, tmp_path: Path, big_firm: FirmConfig) -> None:
        """Written twice, the Parquet files are byte-identical."""
        first = generate_day(events=2_000, seed=5, date=DATE, firm=big_firm)
        second = generate_day(events=2_000, seed=5, date=DATE, firm=big_firm)
        a = write_events(first.table, tmp_path / "a.parquet").read_bytes()
        b = write_events(second.table, tmp_path / "b.parquet").read_bytes()
        assert a == b

    def test_other_seed_other_day(self, big_firm: FirmConfig, day: SimDay) -> None:
        """A different seed gives different events."""
        other = generate_day(events=20_000, seed=12, date=DATE, firm=big_firm)
        assert not other.table.equals(day.table)


class TestPlausible:
    def test_exact_size_schema_and_mix(self, day: SimDay) -> None:
        """Exactly the requested number of events, in EVENT_SCHEMA, sorted by ts, in the documented mix."""
        assert day.table.num_rows == 20_000
        assert day.table.schema == EVENT_SCHEMA
        ts = day.table.column("ts").cast(pa.int64()).to_numpy()
        assert np.all(np.diff(ts) >= 0)
        counts = dict(zip(*(pc.value_counts(day.table.column("kind")).flatten()), strict=True))
        for kind, share in EVENT_MIX.items():
            assert abs(counts[pa.scalar(kind.value)].as_py() / 20_000 - share) < 0.002

    def test_valid_through_intake(self, tmp_path: Path, day: SimDay) -> None:
        """The written day passes intake unchanged."""
        assert read_events([write_events(day.table, tmp_path / "day.parquet")]).table.equals(day.table)

    def test_fills_follow_their_order_and_complete_it(self, day: SimDay) -> None:
        """Executions come after their order, never overfill it, and fill it fully unless it was cancelled."""
        orders = {r["order_id"]: r for r in _of(day, "client_order").to_pylist()}
        cancelled = set(_of(day, "order_cancel").column("order_id").to_pylist())
        filled: dict[str, float] = {}
        for fill in _of(day, "execution").to_pylist():
            order = orders[fill["order_id"]]
            assert fill["ts"] > order["ts"]
            assert (fill["symbol"], fill["side"], fill["account"]) == (
                order["symbol"],
                order["side"],
                order["account"],
            )
            filled[fill["order_id"]] = filled.get(fill["order_id"], 0.0) + fill["qty"]
        for order_id, order in orders.items():
            assert filled.get(order_id, 0.0) <= order["qty"]
            if order_id not in cancelled:
                assert filled[order_id] == order["qty"]

    def test_client_orders_in_market_hours_u_shaped(self, day: SimDay) -> None:
        """Client orders fall in 09:30-16:00 New York, busier near the open and close than at midday."""
        hours = _local_hours(_of(day, "client_order"))
        assert hours.min() >= 9.5
        assert hours.max() < 16
        first, midday, last = (
            (hours >= a) & (hours < b) for a, b in ((9.5, 10.5), (12.25, 13.25), (14.75, 15.75))
        )
        assert first.sum() > 1.5 * midday.sum()
        assert last.sum() > 1.5 * midday.sum()

    def test_symbols_are_skewed_and_lots_round(self, day: SimDay) -> None:
        """A few symbols dominate client orders, and quantities are round lots."""
        orders = _of(day, "client_order")
        counts = np.sort(pc.value_counts(orders.column("symbol")).field("counts").to_numpy())[::-1]
        assert counts[0] > 10 * np.median(counts)
        assert np.all(orders.column("qty").to_numpy() % 100 == 0)

    def test_who_does_what(self, day: SimDay) -> None:
        """Personal trades use the actor's own accounts; views are by desk traders or compliance."""
        firm = day.firm
        accounts = firm.accounts()
        principals = {p.id: p for p in firm.principals}
        for trade in _of(day, "personal_trade").to_pylist():
            assert accounts[trade["account"]].owner == trade["actor"]
        for view in _of(day, "order_view").to_pylist():
            viewer = principals[view["actor"]]
            assert "compliance" in viewer.roles or viewer.desk == accounts[view["account"]].desk
        logins = _of(day, "login")
        assert logins.column("ip").null_count == 0
        assert logins.column("session_id").null_count == 0

    def test_refuses_a_weekend(self, big_firm: FirmConfig) -> None:
        """A date outside the firm's business days is refused."""
        with pytest.raises(ValueError, match="not a business day"):
            generate_day(events=1_000, seed=1, date=dt.date(2026, 11, 21), firm=big_firm)

    def test_small_firm_too_small_for_many_views(self, firm: FirmConfig) -> None:
        """The bare example firm cannot hold a large day's views; the error says what to do."""
        with pytest.raises(ValueError, match="synthetic_firm"):
            generate_day(events=50_000, seed=1, date=DATE, firm=firm)


def _fill_with_sibling_account(day: SimDay) -> tuple[pa.Table, str]:
    """An execution whose account shares its beneficial owner with another account, and that account."""
    by_owner: dict[str, list[str]] = {}
    for account in day.firm.accounts().values():
        by_owner.setdefault(account.beneficial_owner, []).append(account.id)
    siblings = {
        a: next(b for b in group if b != a) for group in by_owner.values() if len(group) > 1 for a in group
    }
    fills = _of(day, "execution")
    accounts = fills.column("account").to_pylist()
    row = next(i for i, a in enumerate(accounts) if a in siblings)
    return fills.slice(row, 1), siblings[accounts[row]]
