"""A throwaway PostgreSQL cluster started from the machine's server binaries.

When the tests run as root, the cluster runs as the unprivileged ``nobody``
user (PostgreSQL refuses to run as root). Set ORDERGUARD_TEST_POSTGRES_URL to
use an existing server instead; with ORDERGUARD_REQUIRE_POSTGRES=1 (as in CI)
a missing server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

_counter = itertools.count()


def _server_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """A running cluster; ``admin_url`` is a superuser URL, ``new_database()`` makes an empty DB."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def url_for(self, database: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"og_test_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)


@contextlib.contextmanager
def start_cluster(workdir: Path) -> Iterator[PostgresCluster]:
    initdb, pg_ctl = _server_bin("initdb"), _server_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise FileNotFoundError("initdb/pg_ctl not found; install the postgresql package")
    run_as: dict[str, int] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid}
        workdir.chmod(0o777)
        for parent in workdir.parents:
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    if run_as:
        os.chown(sock, run_as["user"], run_as["group"])
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
        env=env,
        cwd=workdir,
        **run_as,  # type: ignore[call-overload]
    )
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
    subprocess.run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"],
        check=True,
        capture_output=True,
        env=env,
        cwd=workdir,
        **run_as,  # type: ignore[call-overload]
    )
    try:
        yield PostgresCluster(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            env=env,
            cwd=workdir,
            **run_as,  # type: ignore[call-overload]
        )


@contextlib.contextmanager
def postgres_or_skip(workdir: Path) -> Iterator[PostgresCluster]:
    url = os.environ.get("ORDERGUARD_TEST_POSTGRES_URL")
    if url:
        yield PostgresCluster(url)
        return
    try:
        cm = start_cluster(workdir)
        cluster = cm.__enter__()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        if os.environ.get("ORDERGUARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but could not start: {detail}")
        pytest.skip(f"no PostgreSQL server binaries: {detail}")
    try:
        yield cluster
    finally:
        cm.__exit__(None, None, None)
