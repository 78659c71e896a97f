"""Custom CEL rules: loading, errors that name the place, shadow mode, and the shipped default file."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderguard.config import FirmConfig
from orderguard.domain.events import EventKind
from orderguard.surveillance.custom_rules import DEFAULT_RULES, RuleFileError, load_rules
from tests.unit.surveillance.helpers import Events, batch_alerts, stream_alerts

RULE = """
rules:
  - id: big_view
    kinds: [order_view]
    condition: "records > 100"
    severity: high
    action: alert_security
    mode: {mode}
"""


class TestLoadRules:
    def test_default_file_loads(self) -> None:
        """The shipped default rule file holds the seed's three alert rules and one shadow rule."""
        rules = {r.id: r for r in load_rules(DEFAULT_RULES)}
        assert {r.action for r in rules.values() if r.mode == "alert"} == {
            "alert_compliance",
            "alert_security",
            "block_and_alert",
        }
        assert rules["trial_night_login"].mode == "shadow"

    def test_bad_cel_names_rule_and_key(self, tmp_path: Path) -> None:
        """A condition that is not CEL is refused with the file, the rule and the key in the message."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE.format(mode="alert").replace("records > 100", "records >"))
        with pytest.raises(RuleFileError, match=r"rules\.yaml: rules\[0\] \(big_view\)\.condition"):
            load_rules(path)

    @pytest.mark.parametrize(
        ("change", "where"),
        [
            (("kinds: [order_view]", "kinds: [order_peek]"), "kinds"),
            (("mode: alert", "mode: loud"), "mode"),
            (("    severity: high\n", ""), "severity"),
            (("action:", "actoin:"), "actoin"),
        ],
    )
    def test_bad_keys_are_named(self, tmp_path: Path, change: tuple[str, str], where: str) -> None:
        """An unknown kind, mode or key, or a missing key, is an error naming that key."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE.format(mode="alert").replace(*change))
        with pytest.raises(RuleFileError, match=rf"rules\[0\].*{where}"):
            load_rules(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing rule file is an error naming the path."""
        with pytest.raises(RuleFileError, match="no such rule file"):
            load_rules(tmp_path / "absent.yaml")


class TestEvaluation:
    def _events(self) -> Events:
        b = Events()
        b.view(0, "ana", records=101)
        b.view(1, "ana", records=100)
        b.add(EventKind.LOGIN, 2, "ana")
        return b

    def test_alert_mode_alerts_in_both_engines(self, firm: FirmConfig, tmp_path: Path) -> None:
        """An alert-mode rule alerts on matching events only, identically in stream and batch."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE.format(mode="alert"))
        events = self._events().events
        streamed = stream_alerts(firm, events, rules=(), custom=load_rules(path))
        batched = batch_alerts(firm, events, rules=(), custom=load_rules(path))
        assert [a.event_ids for a in streamed] == [("e1",)]
        assert [a.to_record() for a in batched] == [a.to_record() for a in streamed]
        assert streamed[0].rule == "big_view"
        assert streamed[0].action == "alert_security"

    def test_shadow_mode_records_without_alerting(self, firm: FirmConfig, tmp_path: Path) -> None:
        """A shadow rule raises no alert but records which events it would have matched."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE.format(mode="shadow"))
        rules = load_rules(path)
        assert stream_alerts(firm, self._events().events, rules=(), custom=rules) == []
        assert rules[0].shadow_matches == ["e1"]
