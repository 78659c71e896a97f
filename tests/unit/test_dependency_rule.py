"""The dependency rule, read from source: domain imports nothing of ours; interfaces never touch tables."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "orderguard"
TABLE_MODULE = re.compile(r"^orderguard\.storage\.\w*_tables$")


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for each import in ``path`` (a file under ``root``), relative ones resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield node.lineno, base
            for alias in node.names:  # `from orderguard.storage import events_tables`
                yield node.lineno, f"{base}.{alias.name}"


DOMAIN_OUTSIDE = re.compile(r"^orderguard(\.(?!domain(\.|$))|$)")


def violations(folder: str, forbidden: re.Pattern[str], package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted((package / folder).rglob("*.py")):
        for line, module in imported_modules(path, package.parent):
            if forbidden.match(module):
                found.append(f"{path.relative_to(package.parent)}:{line} imports {module}")
    return found


class TestDependencyRule:
    def test_domain_imports_nothing_of_ours(self) -> None:
        """Modules under orderguard/domain import only the standard library, third parties and domain."""
        assert list((PACKAGE / "domain").rglob("*.py")), "orderguard/domain has no modules"
        assert violations("domain", DOMAIN_OUTSIDE) == []

    @pytest.mark.parametrize("interface", ["api", "web", "cli"])
    def test_interfaces_never_import_tables(self, interface: str) -> None:
        """api, web and cli call stages and storage services, never the *_tables modules."""
        assert violations(interface, TABLE_MODULE) == []


class TestTheCheckItself:
    def test_catches_imports_that_break_the_rule(self, tmp_path: Path) -> None:
        """Absolute, relative and from-imports that break the rule are each reported with file and line."""
        fake = tmp_path / "orderguard"
        (fake / "domain").mkdir(parents=True)
        (fake / "cli").mkdir()
        (fake / "domain" / "bad.py").write_text(
            "from orderguard.domain import events\nfrom ..storage import engine\nimport orderguard.config\n"
        )
        (fake / "cli" / "bad.py").write_text(
            "from orderguard.storage.events_store import EventStore\n"
            "from orderguard.storage import events_tables\n"
        )
        assert violations("domain", DOMAIN_OUTSIDE, fake) == [
            "orderguard/domain/bad.py:2 imports orderguard.storage",
            "orderguard/domain/bad.py:2 imports orderguard.storage.engine",
            "orderguard/domain/bad.py:3 imports orderguard.config",
        ]
        assert violations("cli", TABLE_MODULE, fake) == [
            "orderguard/cli/bad.py:2 imports orderguard.storage.events_tables"
        ]
