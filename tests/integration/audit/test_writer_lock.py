"""One writing process per audit log: a second writer is refused at once, and the lock ends with the log."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from orderguard.audit.log import AuditLog
from orderguard.audit.writer_lock import AuditWriterBusyError
from orderguard.storage.migrate import upgrade
from tests.integration.audit.helpers import open_log, order_entry


class TestWriterLock:
    def test_a_second_writer_is_refused_until_the_first_closes(self, db_url: str) -> None:
        """While one AuditLog is open, opening another on the same database fails with a clear error."""
        with open_log(db_url) as first:
            first.append(order_entry(0))
            with pytest.raises(AuditWriterBusyError, match="open for writing by another"):
                AuditLog(db_url)
            assert first.append(order_entry(1)) == 1  # the refused opener disturbed nothing
        with open_log(db_url) as second:
            assert second.append(order_entry(2)) == 2

    def test_another_process_is_refused_and_told_who_holds_it(self, sqlite_url: str) -> None:
        """A second process gets the refusal naming the holder's pid, and exits without writing."""
        upgrade(sqlite_url)
        script = textwrap.dedent(
            f"""
            from orderguard.audit.log import AuditLog
            from orderguard.audit.writer_lock import AuditWriterBusyError
            try:
                AuditLog({sqlite_url!r})
            except AuditWriterBusyError as exc:
                print(exc)
                raise SystemExit(3)
            """
        )
        with open_log(sqlite_url) as log:
            log.append(order_entry(0))
            result = subprocess.run(
                [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 3, result.stderr
            assert "pid" in result.stdout
            assert log.head()[0] == 1
