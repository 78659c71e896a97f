"""`orderguard policy test`: table-driven policy tests, their failures and their input errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderguard.cli.main import app
from orderguard.policy.policytest import PolicyTestError, run_policy_tests
from tests.conftest import EXAMPLE_FIRM, ROOT

EXAMPLE_TESTS = ROOT / "examples" / "policy-tests.yaml"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tests.yaml"
    path.write_text(f"firm: {EXAMPLE_FIRM}\n{body}", "utf-8")
    return path


class TestRunner:
    def test_the_shipped_examples_pass(self) -> None:
        """Every case of examples/policy-tests.yaml passes against the shipped policies."""
        results = run_policy_tests(EXAMPLE_TESTS)
        assert len(results) >= 20
        assert [r.case.name for r in results if not r.passed] == []

    def test_a_wrong_expectation_is_reported(self, tmp_path: Path) -> None:
        """A case expecting a developer to view orders fails with the actual decision."""
        path = write(
            tmp_path,
            "tests:\n  - {name: dev, principal: dana, action: view_order, order: {account: C-PENSION-1},"
            " expect: allow, policies: [x]}\n",
        )
        [result] = run_policy_tests(path)
        assert not result.passed
        assert any("expected allow, got deny" in p for p in result.problems)
        assert any("expected policies ['x']" in p for p in result.problems)

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("tests: []\n", "tests"),
            ("tests:\n  - {name: a, principal: alice, action: fly, expect: allow}\n", "unknown action 'fly'"),
            ("tests:\n  - {name: a, principal: zed, action: read_code, expect: allow}\n", "'zed' is not in"),
            ("tests:\n  - {name: a, principal: alice, action: view_order, expect: allow}\n", "needs order"),
            (
                "tests:\n  - {name: a, principal: alice, action: read_code, expect: maybe}\n",
                r"tests\[0\]\.expect",
            ),
            (
                "tests:\n  - {name: a, principal: alice, action: read_code, expect: allow, colour: red}\n",
                "colour",
            ),
            (
                "tests:\n  - {name: a, principal: alice, action: read_code, expect: allow, time: noon}\n",
                "time",
            ),
            ("tests: [\n", "not valid YAML"),
        ],
    )
    def test_bad_input_names_the_place(self, tmp_path: Path, body: str, message: str) -> None:
        """Each input error names the file and key path."""
        with pytest.raises(PolicyTestError, match=message) as caught:
            run_policy_tests(write(tmp_path, body))
        assert str(tmp_path) in str(caught.value)


class TestCommand:
    def test_exit_codes(self, tmp_path: Path) -> None:
        """0 when all pass, 1 when a case fails, 2 on bad input."""
        runner = CliRunner()
        ok = runner.invoke(app, ["policy", "test", str(EXAMPLE_TESTS)])
        assert ok.exit_code == 0, ok.output
        assert "0 failed" in ok.output
        failing = write(tmp_path, "tests:\n  - {name: a, principal: dana, action: read_code, expect: deny}\n")
        assert runner.invoke(app, ["policy", "test", str(failing)]).exit_code == 1
        assert runner.invoke(app, ["policy", "test", str(tmp_path / "missing.yaml")]).exit_code == 2
