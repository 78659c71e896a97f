"""kill -9 during sustained concurrent appends loses no acknowledged entry, and the log still verifies."""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.keys import NoteSigner
from orderguard.audit.log import AuditLog
from orderguard.audit.verify import verify_log
from orderguard.storage.migrate import upgrade
from tests.integration.audit.helpers import keyset

ROOT = Path(__file__).resolve().parents[3]


def run_and_kill(url: str, signer: NoteSigner, run_for: float) -> dict[int, str]:
    """Start a writer with 8 threads, let it append for ``run_for`` s after its first ack, kill -9 it."""
    env = {**os.environ, "ORDERGUARD_AUDIT_KEY": signer.skey()}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.audit.crash_writer", url, "8"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    acked: dict[int, str] = {}
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline: float | None = None
    started = time.monotonic()
    while deadline is None or time.monotonic() < deadline:
        assert time.monotonic() - started < 30, "writer produced no acknowledgement in 30 s"
        if selector.select(timeout=0.05):
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"writer exited early: {process.stderr.read().decode() if process.stderr else ''}"
            buffer += chunk
            if deadline is None:
                deadline = time.monotonic() + run_for
    process.send_signal(signal.SIGKILL)
    process.wait()
    buffer += process.stdout.read()  # lines already written before the kill were acknowledged too
    selector.close()
    process.stdout.close()
    if process.stderr is not None:
        process.stderr.close()
    for line in buffer.decode().splitlines(keepends=True):
        if line.endswith("\n"):  # a torn last line was never fully acknowledged
            index, object_id = line.split()
            acked[int(index)] = object_id
    return acked


@pytest.mark.slow
class TestCrash:
    @pytest.mark.parametrize("rounds", [5])
    def test_sqlite_kill_9_loses_nothing_acknowledged(self, sqlite_url: str, rounds: int) -> None:
        """Across several kill -9 rounds on SQLite, every acknowledged entry survives and verify passes."""
        self.exercise(sqlite_url, rounds)

    @pytest.mark.postgres
    def test_postgres_kill_9_loses_nothing_acknowledged(self, postgres_url: str) -> None:
        """Across kill -9 rounds on PostgreSQL, every acknowledged entry survives and verify passes."""
        self.exercise(postgres_url, 3)

    def exercise(self, url: str, rounds: int) -> None:
        upgrade(url)
        signer = NoteSigner.generate("crash-key")
        rng = random.Random(20261121)
        acked: dict[int, str] = {}
        for _ in range(rounds):
            acked.update(run_and_kill(url, signer, rng.uniform(0.1, 0.8)))
        assert len(acked) > 100
        with AuditLog(url) as log:  # reopening rebuilds the tree; a gap would raise here
            size = log.head()[0]
            assert max(acked) < size
            for index, object_id in acked.items():
                stored = log.store.entry(index)
                assert stored is not None, f"acknowledged entry {index} lost"
                assert decode_leaf(stored[2]).header["object_id"] == object_id
        report = verify_log(log.engine, keyset(signer))
        log.engine.dispose()
        assert report.ok, report.findings
        assert report.checkpoints_verified > 0
