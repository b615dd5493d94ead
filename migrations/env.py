"""Alembic environment of the case store.

The URL comes from `RIPOSTE_DATABASE_URL` (through `riposte.store.config`, default
`sqlite:///var/riposte.db`). When the store upgrades itself it hands over its own connection
in `config.attributes["connection"]` and nothing else is configured here (no logging set-up).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from riposte.store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from riposte.store.config import StoreConfig
    from riposte.store.migrate import prepare_sqlite_file

    store_config = StoreConfig.from_env()
    prepare_sqlite_file(store_config)
    return store_config.database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = create_engine(_url(), poolclass=NullPool, future=True)
    try:
        with engine.connect() as connection:
            _configure(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
