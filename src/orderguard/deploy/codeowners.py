"""CODEOWNERS (GitHub syntax): each line is a pattern and its owners; the last matching line wins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orderguard.deploy.git import DeployInputError, git

DEFAULT_LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True, slots=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str]


def _compile(pattern: str) -> re.Pattern[str]:
    """gitignore-style pattern -> regex over repository-relative paths."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    # A pattern naming a directory owns everything below it.
    return re.compile(prefix + "".join(out) + "(?:/.*)?$")


def parse_codeowners(text: str, source: str) -> list[OwnerRule]:
    """Parse CODEOWNERS text; a bad owner name is an error naming the file and line."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        for owner in owners:
            if not re.fullmatch(r"@?[A-Za-z0-9_.:@/-]+", owner):
                raise DeployInputError(
                    f"{source}:{number}: owner {owner!r} is not @name or an e-mail address"
                )
        rules.append(
            OwnerRule(pattern, tuple(o.removeprefix("@") for o in owners), number, _compile(pattern))
        )
    return rules


def load_codeowners(repo: Path, base: str, explicit: Path | None) -> tuple[list[OwnerRule], str]:
    """The rules from ``explicit``, else from CODEOWNERS as of ``base``: a change cannot re-own itself."""
    if explicit is not None:
        if not explicit.is_file():
            raise DeployInputError(f"--codeowners {explicit}: no such file")
        return parse_codeowners(explicit.read_text("utf-8"), str(explicit)), str(explicit)
    for location in DEFAULT_LOCATIONS:
        try:
            text = git(repo, "show", f"{base}:{location}")
        except DeployInputError:
            continue
        source = f"{location}@{base[:12]}"
        return parse_codeowners(text, source), source
    raise DeployInputError(
        f"{repo}: no CODEOWNERS at {base[:12]} in {', '.join(DEFAULT_LOCATIONS)}; pass --codeowners FILE"
    )


def owners_for(path: str, rules: list[OwnerRule]) -> tuple[str, ...]:
    """Owners of ``path``: the last matching rule's owners, or () when no rule matches."""
    owners: tuple[str, ...] = ()
    for rule in rules:
        if rule.regex.match(path):
            owners = rule.owners
    return owners
