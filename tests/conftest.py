"""Shared fixtures: the example firm, a throwaway PostgreSQL cluster, database URLs for both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderguard.config import FirmConfig, load_config
from tests.pg import PostgresCluster, postgres_or_skip

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FIRM = ROOT / "examples" / "firm.toml"
VECTORS = ROOT.parent / "shared" / "vectors" / "merkle"


@pytest.fixture(scope="session")
def firm() -> FirmConfig:
    """The example firm from examples/firm.toml."""
    return load_config(EXAMPLE_FIRM)


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session (or ORDERGUARD_TEST_POSTGRES_URL)."""
    with postgres_or_skip(tmp_path_factory.mktemp("pg")) as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A fresh, empty database on the session's cluster."""
    return postgres_cluster.new_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'orderguard.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orderguard.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database()
