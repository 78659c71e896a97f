"""A real git repository built in a temporary directory, for the deploy-gate tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

CODEOWNERS = "*  @devon @erin\n/src/risk/  @erin\nCODEOWNERS  @sofia\n"


def git(repo: Path, *args: str, author: str = "dana") -> str:
    env = {
        "GIT_AUTHOR_NAME": author.title(),
        "GIT_AUTHOR_EMAIL": f"{author}@northbridge.example",
        "GIT_COMMITTER_NAME": author.title(),
        "GIT_COMMITTER_EMAIL": f"{author}@northbridge.example",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], author: str, message: str = "change") -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        git(repo, "add", name, author=author)
    git(repo, "commit", "-q", "-m", message, author=author)
    return git(repo, "rev-parse", "HEAD", author=author)


def make_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository with CODEOWNERS and one base commit; returns (repo, base sha)."""
    repo = tmp_path / "trading-engine"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit(repo, {"CODEOWNERS": CODEOWNERS, "src/app.py": "x = 1\n"}, "erin", "base")
    return repo, base
