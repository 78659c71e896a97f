"""The firm file's optional ``[reference_prices]`` table: valid prices load, bad ones name key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderguard.config import ConfigError, FirmConfig, load_config
from tests.conftest import EXAMPLE_FIRM

EXAMPLE = EXAMPLE_FIRM.read_text(encoding="utf-8")


def with_table(tmp_path: Path, table: str) -> Path:
    """A copy of the example firm with ``table`` (TOML lines) appended as ``[reference_prices]``."""
    path = tmp_path / "firm.toml"
    path.write_text(f"{EXAMPLE}\n[reference_prices]\n{table}\n", encoding="utf-8")
    return path


class TestReferencePricesTable:
    def test_absent_means_no_reference_prices(self, firm: FirmConfig) -> None:
        """The table is optional: the example firm loads with none."""
        assert firm.reference_prices == {}

    def test_prices_load_per_symbol(self, tmp_path: Path) -> None:
        """Integer and decimal prices load as floats, dotted tickers quoted as TOML keys."""
        firm = load_config(with_table(tmp_path, 'AAPL = 190\n"BRK.B" = 412.5'))
        assert firm.reference_prices == {"AAPL": 190.0, "BRK.B": 412.5}

    @pytest.mark.parametrize(
        ("line", "shown"),
        [
            ("AAPL = -1.0", "AAPL = -1.0 is not a price"),
            ("AAPL = 0", "AAPL = 0 is not a price"),
            ('AAPL = "190"', "AAPL = '190' is not a price"),
            ("AAPL = true", "AAPL = True is not a price"),
            ("AAPL = nan", "AAPL = nan is not a price"),
            ("AAPL = inf", "AAPL = inf is not a price"),
        ],
    )
    def test_a_bad_price_names_the_key_and_the_fix(self, tmp_path: Path, line: str, shown: str) -> None:
        """A non-positive, non-finite or non-numeric price names the file, the key and how to write it."""
        path = with_table(tmp_path, line)
        with pytest.raises(ConfigError) as raised:
            load_config(path)
        message = str(raised.value)
        assert message.startswith(f"{path}: reference_prices: {shown}")
        assert "give a positive number, e.g. AAPL = 187.5" in message

    def test_a_bad_symbol_names_the_key_and_the_fix(self, tmp_path: Path) -> None:
        """A key that is not a ticker (a space in it) is refused, naming it and what a key must be."""
        path = with_table(tmp_path, '"AA PL" = 190.0')
        with pytest.raises(ConfigError) as raised:
            load_config(path)
        assert "reference_prices: 'AA PL' is not a symbol; use the instrument's ticker" in str(raised.value)

    def test_a_table_of_the_wrong_shape_is_refused(self, tmp_path: Path) -> None:
        """``reference_prices`` given as a number, not a table, is refused naming the key."""
        path = tmp_path / "firm.toml"
        path.write_text(f"reference_prices = 3\n{EXAMPLE}", encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            load_config(path)
        assert "reference_prices" in str(raised.value)
