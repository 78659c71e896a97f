"""Read a commit range from git: resolved endpoints, changed paths, commit authors and committers."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


class DeployInputError(Exception):
    """A repository, range or CODEOWNERS file that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What a range ``base..head`` changes and who wrote it."""

    repo: Path
    base: str
    head: str
    paths: tuple[str, ...]
    authors: tuple[tuple[str, str], ...]  # (name, email) of every commit author in the range
    # (name, email) of every committer: who wrote a commit under someone else's author name shows here
    committers: tuple[tuple[str, str], ...] = ()


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; a failure becomes a DeployInputError quoting git's message."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed executable, arguments are not shell-interpreted
            ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a developer would run it
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise DeployInputError("git is not installed or not on PATH") from None
    if done.returncode != 0:
        raise DeployInputError(f"{repo}: git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """Is ``older`` an ancestor of (or equal to) ``newer``? Unknown commits are not."""
    done = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def read_range(repo: Path, rev_range: str) -> ChangeSet:
    """Resolve ``A..B`` in ``repo`` and read its changed paths and authors."""
    if not (repo / ".git").exists() and not repo.joinpath("HEAD").exists():
        raise DeployInputError(f"{repo}: not a git repository; pass --repo PATH of a checkout")
    base_ref, sep, head_ref = rev_range.partition("..")
    if not sep or not base_ref or not head_ref or head_ref.startswith("."):
        raise DeployInputError(f"--range {rev_range!r}: expected BASE..HEAD, e.g. main..feature")
    base = git(repo, "rev-parse", "--verify", f"{base_ref}^{{commit}}").strip()
    head = git(repo, "rev-parse", "--verify", f"{head_ref}^{{commit}}").strip()
    paths = tuple(p for p in git(repo, "diff", "--name-only", "-z", base, head).split("\0") if p)
    log = git(repo, "log", "--format=%an%x1f%ae%x1f%cn%x1f%ce", f"{base}..{head}")
    fields = [line.split("\x1f") for line in log.splitlines() if line]
    authors = tuple(sorted({(f[0], f[1]) for f in fields}))
    committers = tuple(sorted({(f[2], f[3]) for f in fields}))
    if not authors:
        raise DeployInputError(f"--range {rev_range!r}: no commits between {base[:12]} and {head[:12]}")
    return ChangeSet(repo, base, head, paths, authors, committers)
