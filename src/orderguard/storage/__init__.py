"""Storage: SQLAlchemy 2 Core tables and backend specifics for SQLite and PostgreSQL."""

from orderguard.storage.engine import DEFAULT_URL, make_engine

__all__ = ["DEFAULT_URL", "make_engine"]
