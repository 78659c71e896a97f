"""Alembic environment: migrations run on the engine built by orderguard.storage.make_engine."""

from __future__ import annotations

from alembic import context

from orderguard.storage.engine import make_engine
from orderguard.storage.schema import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None, "sqlalchemy.url must be set by orderguard.storage.migrate"

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
