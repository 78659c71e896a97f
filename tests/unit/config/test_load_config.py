"""The firm file: the example loads, and every bad input names the file, the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderguard.config import ConfigError, FirmConfig, load_config, parse_config
from orderguard.domain import AccountType, Role
from tests.conftest import EXAMPLE_FIRM

EXAMPLE = EXAMPLE_FIRM.read_text(encoding="utf-8")


def variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the example firm with ``old`` replaced by ``new`` (``count`` times)."""
    assert old in EXAMPLE, f"the example firm no longer contains {old!r}"
    path = tmp_path / "firm.toml"
    path.write_text(EXAMPLE.replace(old, new, count), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value)


class TestExampleFirm:
    def test_example_loads(self, firm: FirmConfig) -> None:
        """examples/firm.toml validates and its lookups see its people, accounts and venues."""
        assert firm.firm == "Northbridge Securities"
        alice = firm.principal("alice")
        assert alice is not None
        assert alice.has(Role.TRADER)
        accounts = firm.accounts()
        assert accounts["PA-tom-ira"].type is AccountType.PERSONAL
        assert accounts["PA-tom-ira"].owner == "tom"
        assert accounts["C-HEDGE-2"].beneficial_owner == "Quartz Holdings"
        assert accounts["C-PENSION-1"].beneficial_owner == "Harbor Pension Fund"
        assert "DARK-X" not in firm.approved_venues()
        assert "XNYS" in firm.approved_venues()
        assert firm.business_hours.zone.key == "America/New_York"

    def test_keys_left_out_take_their_defaults(self) -> None:
        """A minimal firm (name, one principal, one venue) is valid; everything else has a default."""
        config = parse_config(
            {"firm": "Tiny", "principals": [{"id": "a", "name": "A", "roles": ["trader"]}], "venues": []}
        )
        assert config.detectors.front_running.lead_seconds == 60.0
        assert config.controls.large_order_quorum == 1
        assert config.business_hours.weekdays == (0, 1, 2, 3, 4)


class TestUnknownKeys:
    def test_typo_at_top_level(self, tmp_path: Path) -> None:
        """A misspelt top-level key is refused with its path and the key it probably meant."""
        path = variant(tmp_path, 'firm = "Northbridge', 'frim = "Northbridge')
        message = error_of(path)
        assert f"{path}: frim: unknown key (did you mean 'firm'?)" in message
        assert f"{path}: firm: required key is missing" in message

    def test_typo_in_nested_table(self, tmp_path: Path) -> None:
        """A misspelt detector name is refused as detectors.front_runing, suggesting front_running."""
        path = variant(tmp_path, "[detectors.front_running]", "[detectors.front_runing]")
        assert error_of(path) == (
            f"{path}: detectors.front_runing: unknown key (did you mean 'front_running'?); "
            "see docs/configuration.md"
        )

    def test_typo_inside_array_of_tables(self, tmp_path: Path) -> None:
        """An unknown key in the third [[principals]] entry names principals[2] and lists the known keys."""
        path = variant(tmp_path, 'name = "Tom Trader"', 'name = "Tom Trader"\nfavourite_colour = "red"')
        message = error_of(path)
        assert message.startswith(
            f"{path}: principals[2].favourite_colour: unknown key (known keys here: id,"
        )


class TestBadValues:
    def test_wrong_type(self, tmp_path: Path) -> None:
        """A string where a number belongs names the key path and shows the value given."""
        path = variant(tmp_path, "lead_seconds = 60", 'lead_seconds = "sixty"')
        message = error_of(path)
        assert message.startswith(
            f"{path}: detectors.front_running.lead_seconds: Input should be a valid number"
        )
        assert "(got 'sixty')" in message

    def test_out_of_range(self, tmp_path: Path) -> None:
        """A threshold that must be positive is refused at its key path."""
        path = variant(tmp_path, "floor = 20", "floor = 0")
        assert "detectors.query_volume.floor: Input should be greater than or equal to 1 (got 0)" in error_of(
            path
        )

    def test_unknown_role(self, tmp_path: Path) -> None:
        """A role that does not exist is refused at principals[i].roles[j], listing the roles that do."""
        path = variant(tmp_path, 'roles = ["developer", "code_reviewer"]', 'roles = ["developer", "wizard"]')
        message = error_of(path)
        assert message.startswith(f"{path}: principals[4].roles[1]: Input should be 'trader'")
        assert "'compliance'" in message
        assert "(got 'wizard')" in message

    def test_unknown_timezone(self, tmp_path: Path) -> None:
        """A time zone that is not in the IANA database is refused with an example of one that is."""
        path = variant(tmp_path, 'timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
        assert error_of(path) == (
            f"{path}: business_hours.timezone: unknown IANA time zone 'Mars/Olympus'; e.g. 'America/New_York'"
        )

    def test_time_of_day_as_number(self, tmp_path: Path) -> None:
        """start = 6 is refused (it would mean six seconds past midnight); the fix is shown."""
        path = variant(tmp_path, 'start = "06:00:00"', "start = 6")
        assert 'business_hours.start: a time of day is written "HH:MM" or "HH:MM:SS"' in error_of(path)

    def test_weekday_out_of_range(self, tmp_path: Path) -> None:
        """Weekdays run 0 (Monday) to 6 (Sunday); 7 is refused at its index."""
        path = variant(tmp_path, "weekdays = [0, 1, 2, 3, 4]", "weekdays = [0, 1, 7]")
        assert "business_hours.weekdays[2]: Input should be less than or equal to 6 (got 7)" in error_of(path)

    def test_several_problems_are_all_reported(self, tmp_path: Path) -> None:
        """Every problem in the file is reported, one line each, not only the first."""
        path = variant(tmp_path, "floor = 20", "floor = -1\nflor = 3")
        lines = error_of(path).splitlines()
        assert len(lines) == 2
        assert all(line.startswith(f"{path}: detectors.query_volume.") for line in lines)


class TestDuplicates:
    def test_duplicate_principal_id(self, tmp_path: Path) -> None:
        """Two principals with one id are refused, naming both places."""
        path = variant(tmp_path, 'id = "bob"', 'id = "alice"')
        assert error_of(path) == (
            f"{path}: principals[1].id: principal id 'alice' is already defined at principals[0].id; "
            "each must be unique"
        )

    def test_duplicate_personal_account(self, tmp_path: Path) -> None:
        """One personal account listed under two people is refused, naming both key paths."""
        path = variant(tmp_path, 'personal_accounts = ["PA-bob"]', 'personal_accounts = ["PA-alice"]')
        assert (
            "principals[1].personal_accounts[0]: account 'PA-alice' is already defined at "
            "principals[0].personal_accounts[0]"
        ) in error_of(path)

    def test_account_defined_as_client_and_firm(self, tmp_path: Path) -> None:
        """An account id used for a client account and a firm account is refused."""
        path = variant(tmp_path, 'id = "F-PROP-1"', 'id = "C-HEDGE-1"')
        assert (
            "firm_accounts[0].id: account 'C-HEDGE-1' is already defined at client_accounts[1].id"
            in error_of(path)
        )

    def test_duplicate_venue(self, tmp_path: Path) -> None:
        """A venue listed twice (perhaps once approved, once not) is refused."""
        path = variant(tmp_path, 'id = "ARCX"', 'id = "XNYS"')
        assert "venues[2].id: venue id 'XNYS' is already defined at venues[0].id" in error_of(path)


class TestUnreadableFiles:
    def test_bad_toml_syntax_names_the_line(self, tmp_path: Path) -> None:
        """A TOML syntax error names the file, the line and the column."""
        path = variant(tmp_path, 'name = "Nasdaq"', 'name "Nasdaq"')
        line = EXAMPLE.splitlines().index('name = "Nasdaq"') + 1
        message = error_of(path)
        assert message.startswith(f"{path}: not valid TOML: ")
        assert f"(at line {line}, column" in message

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path with no file behind it names the path and how to pass another."""
        path = tmp_path / "nowhere.toml"
        assert error_of(path) == f"{path}: no such firm file; pass --config PATH"

    def test_directory_instead_of_file(self, tmp_path: Path) -> None:
        """A directory given as the firm file is a ConfigError, not a traceback."""
        assert error_of(tmp_path).startswith(f"{tmp_path}: cannot read the firm file:")

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 says so and how to fix it."""
        path = tmp_path / "latin1.toml"
        path.write_bytes('# owner\nfirm = "Caf\u00e9"\n'.encode("latin-1"))
        assert error_of(path) == f"{path}: line 2: not UTF-8 text; save the firm file as UTF-8"
