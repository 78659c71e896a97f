"""`orderguard controls reference-prices load FILE`: end-of-day prices, authorized, audited, whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderguard.audit.encoding import decode_leaf
from orderguard.audit.log import AuditLog
from orderguard.audit.store import AuditStore
from orderguard.cases.model import Response, ResponseKind
from orderguard.cases.response_store import ResponseStore
from orderguard.cli.main import app
from orderguard.domain import Role
from orderguard.gateway.reference_store import SqlReferenceStore
from orderguard.policy.role_journal import RoleChange, RoleChangeKind
from orderguard.policy.sql_role_journal import SqlRoleJournal
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade
from tests.conftest import EXAMPLE_FIRM

EOD = "symbol,price,ts\nAAPL,187.5,2026-11-20T21:00:00Z\nMSFT,410,2026-11-20T21:00:00Z\n"


def load(file: Path, db: str, actor: str) -> tuple[int, str]:
    args = ["controls", "reference-prices", "load", str(file), "--db", db, "--config", str(EXAMPLE_FIRM)]
    result = CliRunner().invoke(app, [*args, "--actor", actor])
    return result.exit_code, result.output


def state(db: str) -> tuple[dict[str, float], list[tuple[str, str, str]]]:
    """(stored market prices, (kind, actor, decision) of each audit entry)."""
    engine = make_engine(db)
    prices = {u.symbol: u.price for u in SqlReferenceStore(engine).all()}
    headers = [decode_leaf(e[2]).header for e in AuditStore(engine).iter_entries()]
    engine.dispose()
    return prices, [(h["kind"], h["actor"], h["decision"]) for h in headers]


@pytest.fixture
def db(sqlite_url: str) -> str:
    upgrade(sqlite_url)
    return sqlite_url


class TestLoad:
    def test_an_admin_loads_an_end_of_day_file(self, db: str, tmp_path: Path) -> None:
        """adam's CSV is stored after one audit entry, and `list` prints it."""
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "adam")
        assert code == 0, output
        assert "stored 2 reference prices" in output
        assert state(db) == ({"AAPL": 187.5, "MSFT": 410.0}, [("reference_prices", "adam", "allow")])
        listed = CliRunner().invoke(app, ["controls", "reference-prices", "list", "--db", db])
        assert "AAPL\t187.5\t2026-11-20T21:00:00.000000000Z\tfile:eod.csv" in listed.output

    def test_a_trader_is_refused_and_audited(self, db: str, tmp_path: Path) -> None:
        """alice may not publish prices: exit 1, the refusal audited, nothing stored."""
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "alice")
        assert code == 1
        assert "alice may not publish reference prices" in output
        assert state(db) == ({}, [("reference_prices", "alice", "deny")])

    def test_a_bad_row_stores_nothing(self, db: str, tmp_path: Path) -> None:
        """A negative price on line 3: exit 2 naming file, row and field; line 2 is not stored either."""
        eod = tmp_path / "eod.csv"
        eod.write_text("symbol,price,ts\nAAPL,187.5,2026-11-20T21:00:00Z\nMSFT,-4,2026-11-20T21:00:00Z\n")
        code, output = load(eod, db, "adam")
        assert code == 2
        assert "eod.csv row 3 field 'price'" in output
        assert state(db) == ({}, [("reference_prices", "adam", "deny")])

    def test_an_unmigrated_database_names_the_fix(self, sqlite_url: str, tmp_path: Path) -> None:
        """Without the reference_prices table: exit 2 telling to run `orderguard db upgrade`."""
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, sqlite_url, "adam")
        assert code == 2
        assert "orderguard db upgrade" in output


def journal(db: str, change: RoleChangeKind, role: Role | None = None) -> None:
    """Record a run-time change to adam's standing, as the server's role directory does."""
    engine = make_engine(db)
    SqlRoleJournal(engine).append(RoleChange("adam", change, role, "sam", 1))
    engine.dispose()


class TestCurrentRoles:
    def test_a_suspended_admin_is_refused(self, db: str, tmp_path: Path) -> None:
        """adam suspended at run time (role journal): exit 1, refusal audited, nothing stored."""
        journal(db, RoleChangeKind.SUSPEND)
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "adam")
        assert code == 1, output
        assert "adam may not publish reference prices" in output
        assert state(db) == ({}, [("reference_prices", "adam", "deny")])

    def test_an_admin_whose_role_was_revoked_is_refused(self, db: str, tmp_path: Path) -> None:
        """adam's admin role revoked at run time: the firm file still lists it, the load is refused."""
        journal(db, RoleChangeKind.REVOKE, Role.ADMIN)
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "adam")
        assert code == 1, output
        assert state(db) == ({}, [("reference_prices", "adam", "deny")])

    def test_a_reinstated_admin_loads_again(self, db: str, tmp_path: Path) -> None:
        """Suspended then reinstated: the journal is replayed in order and the load is stored."""
        journal(db, RoleChangeKind.SUSPEND)
        journal(db, RoleChangeKind.REINSTATE)
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "adam")
        assert code == 0, output

    def test_an_admin_suspended_by_a_case_is_refused(self, db: str, tmp_path: Path) -> None:
        """An active case suspension of adam (cases database): exit 1 naming the suspension."""
        engine = make_engine(db)
        ResponseStore(engine).insert(Response("R-1", ResponseKind.SUSPEND, "adam", "case", "sam", 1))
        engine.dispose()
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        code, output = load(eod, db, "adam")
        assert code == 1, output
        assert "adam is suspended pending a case" in output
        assert state(db)[0] == {}


class TestServerRunning:
    def test_a_held_audit_log_is_a_usage_error_naming_the_api(self, db: str, tmp_path: Path) -> None:
        """While another writer (the server) holds the audit log: exit 2 naming the lock and the API."""
        eod = tmp_path / "eod.csv"
        eod.write_text(EOD)
        engine = make_engine(db)
        with AuditLog(engine):
            code, output = load(eod, db, "adam")
        engine.dispose()
        assert code == 2, output
        assert "single-writer lock" in output
        assert "POST /api/v1/reference-prices" in output
        assert state(db) == ({}, [])
