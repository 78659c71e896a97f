"""Reference price input (feed batches, end-of-day files) is read whole or refused naming row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderguard.domain import format_ts, parse_ts
from orderguard.gateway.control_notional import MAX_AHEAD_NS
from orderguard.gateway.reference_input import ReferenceInputError, parse_rows, read_file
from orderguard.gateway.reference_prices import PriceUpdate

GOOD = {"symbol": "AAPL", "price": 187.5, "ts": "2026-11-20T21:00:00Z"}


def refused(rows: list[dict[str, object]]) -> str:
    with pytest.raises(ReferenceInputError) as caught:
        parse_rows(rows, "feed:adam", "request body prices")
    return str(caught.value)


class TestRows:
    def test_good_rows_become_updates_in_order(self) -> None:
        """Each row becomes a PriceUpdate with the source given, its time in epoch ns."""
        rows = [GOOD, {**GOOD, "symbol": "MSFT", "price": "410"}]
        assert parse_rows(rows, "feed:adam", "body") == [
            PriceUpdate("AAPL", 187.5, parse_ts("2026-11-20T21:00:00Z"), "feed:adam"),
            PriceUpdate("MSFT", 410.0, parse_ts("2026-11-20T21:00:00Z"), "feed:adam"),
        ]

    @pytest.mark.parametrize(
        ("bad", "field", "hint"),
        [
            ({"price": -1.0}, "price", "positive finite number"),
            ({"price": float("nan")}, "price", "positive finite number"),
            ({"price": float("inf")}, "price", "positive finite number"),
            ({"price": 0}, "price", "positive finite number"),
            ({"price": True}, "price", "positive finite number"),
            ({"ts": "20/11/2026"}, "ts", "RFC 3339"),
            ({"ts": 1763672400}, "ts", "RFC 3339"),
            ({"symbol": "AA PL"}, "symbol", "ticker"),
        ],
    )
    def test_a_bad_value_names_row_and_field(self, bad: dict[str, object], field: str, hint: str) -> None:
        """The second row's bad value refuses the batch, naming row 2, the field and the fix."""
        message = refused([GOOD, {**GOOD, **bad}])
        assert f"request body prices row 2 field '{field}'" in message
        assert hint in message

    def test_an_unknown_field_is_refused(self) -> None:
        """A column the format does not have is refused by name (no silent ignoring of e.g. 'currency')."""
        assert "row 1: unknown field 'currency'" in refused([{**GOOD, "currency": "USD"}])

    def test_a_missing_field_is_refused(self) -> None:
        """A row without ts names the field."""
        assert "row 1 field 'ts': missing" in refused([{"symbol": "AAPL", "price": 1.0}])

    def test_an_empty_batch_is_refused(self) -> None:
        """Nothing to store is an error, not a silent success."""
        assert "no prices" in refused([])


class TestFiles:
    def test_a_csv_file_is_read(self, tmp_path: Path) -> None:
        """symbol,price,ts with a header; the source names the file."""
        path = tmp_path / "eod.csv"
        path.write_text("symbol,price,ts\nAAPL,187.5,2026-11-20T21:00:00Z\nMSFT,410,2026-11-20T21:00:00Z\n")
        updates = read_file(path, "file:eod.csv")
        assert [(u.symbol, u.price) for u in updates] == [("AAPL", 187.5), ("MSFT", 410.0)]

    def test_a_bad_csv_line_is_named_by_its_line_number(self, tmp_path: Path) -> None:
        """Line 3 of the file (the second data row) is where the NaN is."""
        path = tmp_path / "eod.csv"
        path.write_text("symbol,price,ts\nAAPL,187.5,2026-11-20T21:00:00Z\nMSFT,nan,2026-11-20T21:00:00Z\n")
        with pytest.raises(ReferenceInputError, match=r"eod\.csv row 3 field 'price'"):
            read_file(path, "file:eod.csv")

    def test_a_json_file_is_read_as_a_list_or_an_object(self, tmp_path: Path) -> None:
        """A list of rows and {"prices": [...]} are both accepted."""
        listed, wrapped = tmp_path / "a.json", tmp_path / "b.json"
        listed.write_text(json.dumps([GOOD]))
        wrapped.write_text(json.dumps({"prices": [GOOD]}))
        assert read_file(listed, "file:a.json") == read_file(wrapped, "file:a.json")

    def test_json_nan_is_refused_by_row_and_field(self, tmp_path: Path) -> None:
        """JSON's NaN literal parses, and is refused as a price with its row."""
        path = tmp_path / "eod.json"
        path.write_text('[{"symbol": "AAPL", "price": NaN, "ts": "2026-11-20T21:00:00Z"}]')
        with pytest.raises(ReferenceInputError, match=r"row 1 field 'price'"):
            read_file(path, "file:eod.json")

    def test_an_unknown_file_type_is_refused(self, tmp_path: Path) -> None:
        """Only .csv and .json are read."""
        path = tmp_path / "eod.xlsx"
        path.write_text("x")
        with pytest.raises(ReferenceInputError, match=r"use \.csv or \.json"):
            read_file(path, "file:eod.xlsx")


class TestFutureAndHugeValues:
    def test_a_ts_far_in_the_future_is_refused_naming_row_and_field(self) -> None:
        """A typo'd year (2062) is refused at input: row 2 field 'ts', 'in the future'; nothing parsed."""
        now = parse_ts("2026-11-20T21:00:00Z")
        rows = [GOOD, {**GOOD, "ts": "2062-11-20T21:00:00Z"}]
        with pytest.raises(ReferenceInputError) as caught:
            parse_rows(rows, "feed:adam", "request body prices", now_ns=now)
        assert "request body prices row 2 field 'ts'" in str(caught.value)
        assert "in the future" in str(caught.value)

    def test_a_ts_within_the_clock_skew_allowance_is_accepted(self) -> None:
        """A ts MAX_AHEAD_NS after now (feed clock slightly ahead) is read; one ns more is refused."""
        now = parse_ts("2026-11-20T21:00:00Z")
        ahead = {**GOOD, "ts": format_ts(now + MAX_AHEAD_NS)}
        assert parse_rows([ahead], "feed:adam", "body", now_ns=now)[0].ts == now + MAX_AHEAD_NS
        with pytest.raises(ReferenceInputError, match="in the future"):
            parse_rows([{**GOOD, "ts": format_ts(now + MAX_AHEAD_NS + 1)}], "feed:adam", "body", now_ns=now)

    def test_a_future_ts_in_a_file_is_refused_by_its_line(self, tmp_path: Path) -> None:
        """An end-of-day CSV whose line 3 is dated 2062 is refused naming the file, line and field."""
        path = tmp_path / "eod.csv"
        path.write_text("symbol,price,ts\nAAPL,187.5,2026-11-20T21:00:00Z\nMSFT,410,2062-11-20T21:00:00Z\n")
        with pytest.raises(ReferenceInputError, match=r"eod.csv row 3 field 'ts'.*in the future"):
            read_file(path, "file:eod.csv", now_ns=parse_ts("2026-11-20T21:30:00Z"))

    def test_an_integer_too_large_for_a_float_is_refused_as_a_price(self) -> None:
        """A 400-digit integer price (float() overflows) is refused naming row 1 field 'price'."""
        assert "row 1 field 'price'" in refused([{**GOOD, "price": 10**400}])
