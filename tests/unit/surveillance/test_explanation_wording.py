"""Alert explanations count in plain English ("1 record", "2 records"), the same from both engines."""

from __future__ import annotations

import pytest

from orderguard.config import FirmConfig
from orderguard.domain.events import parse_ts
from orderguard.surveillance.detectors.wording import counted
from tests.unit.surveillance.helpers import SECOND, T0, Events
from tests.unit.surveillance.test_detectors import both


class TestCounted:
    @pytest.mark.parametrize(
        ("n", "spec", "expected"),
        [
            (1, ",", "1 record"),
            (0, ",", "0 records"),
            (2, ",", "2 records"),
            (1_000, ",", "1,000 records"),
            (1.0, "g", "1 record"),
            (5.5, "g", "5.5 records"),
        ],
    )
    def test_noun_agrees_with_the_number(self, n: float, spec: str, expected: str) -> None:
        """Exactly one takes the singular; zero, fractions and many take the plural."""
        assert counted(n, "record", spec=spec) == expected

    def test_irregular_plural(self) -> None:
        """An irregular noun takes the plural it is given."""
        assert counted(3, "entry", "entries") == "3 entries"
        assert counted(1, "entry", "entries") == "1 entry"


class TestAfterHoursWording:
    @pytest.mark.parametrize(("records", "phrase"), [(1, "viewed 1 record of"), (3, "viewed 3 records of")])
    def test_one_record_is_singular(self, firm: FirmConfig, records: int, phrase: str) -> None:
        """An after-hours view of one record says "1 record", of three "3 records", in both engines."""
        b = Events()
        b.view((parse_ts("2026-11-21T04:00:00Z") - T0) / SECOND, "ana", records=records)
        (alert,) = both(firm, b, "after_hours_access")
        assert phrase in alert.explanation
        assert "1 records" not in alert.explanation
