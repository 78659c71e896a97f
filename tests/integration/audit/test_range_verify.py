"""Verification split into aligned ranges, in-process or in worker processes, finds what one scan finds."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from orderguard.audit.keys import NoteSigner
from orderguard.audit.verify import VerifyReport, verify_log
from orderguard.storage import make_engine
from tests.integration.audit.helpers import filled_log, keyset, lift_protection

SIZE = 600  # one append_many: two full 256-row statements and a remainder on SQLite

# (workers, range size): whole log in one range, in-process ranges, forked workers over ranges.
MODES = [(1, 1 << 15), (1, 64), (2, 64)]


def flip_payload(conn: Connection, idx: int) -> None:
    run = conn.execute
    payload = bytes(run(text(f"SELECT payload FROM audit_payloads WHERE idx = {idx}")).scalar_one())
    run(
        text(f"UPDATE audit_payloads SET payload = :p WHERE idx = {idx}"),
        {"p": payload.replace(b"{", b"[", 1)},
    )


def delete_row(conn: Connection, idx: int) -> None:
    for table in ("audit_entries", "audit_payloads"):
        conn.execute(text(f"DELETE FROM {table} WHERE idx = {idx}"))


def swap_rows(conn: Connection, first: int, second: int) -> None:
    for table in ("audit_entries", "audit_payloads"):
        for source, target in ((first, -1), (second, first), (-1, second)):
            conn.execute(text(f"UPDATE {table} SET idx = :t WHERE idx = :s"), {"t": target, "s": source})


TAMPERS: dict[str, tuple[Callable[[Connection], None], int]] = {
    "payload byte at 300": (lambda conn: flip_payload(conn, 300), 300),
    "row 200 deleted": (lambda conn: delete_row(conn, 200), 200),
    "rows 130 and 131 swapped": (lambda conn: swap_rows(conn, 130, 131), 130),
    "last row deleted": (lambda conn: delete_row(conn, SIZE - 1), SIZE - 1),
}


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate("audit-key")


@pytest.fixture
def engine(db_url: str, signer: NoteSigner) -> Iterator[Engine]:
    filled_log(db_url, signer, SIZE, checkpoint_each=False)  # the closing log signs a checkpoint at SIZE
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def reports(engine: Engine, signer: NoteSigner) -> list[VerifyReport]:
    return [verify_log(engine, keyset(signer), workers=w, range_size=r) for w, r in MODES]


class TestRangeVerify:
    def test_intact_log_same_root_in_every_mode(self, engine: Engine, signer: NoteSigner) -> None:
        """An intact log verifies with the same size and root however the scan is split."""
        found = reports(engine, signer)
        assert all(report.ok for report in found), [report.findings for report in found]
        assert {(report.size, report.root) for report in found} == {(SIZE, found[0].root)}
        assert found[0].covered_size == SIZE

    @pytest.mark.parametrize("tamper", sorted(TAMPERS))
    def test_tampering_located_alike_in_every_mode(
        self, engine: Engine, signer: NoteSigner, tamper: str
    ) -> None:
        """Each tampering is reported at the same first index, with the same findings, in every mode."""
        change, index = TAMPERS[tamper]
        lift_protection(engine)
        with engine.begin() as conn:
            change(conn)
        found = reports(engine, signer)
        assert index in {finding.index for finding in found[0].findings}, found[0].findings
        assert all(report.findings == found[0].findings for report in found)

    def test_range_size_must_be_a_power_of_two(self, engine: Engine, signer: NoteSigner) -> None:
        """A range size that is not a power of two is refused with the value named."""
        with pytest.raises(ValueError, match="power of two, got 100"):
            verify_log(engine, keyset(signer), range_size=100)
