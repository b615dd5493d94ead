"""Bring a database to the latest Alembic revision (the store does it on first use)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine

from riposte.store.config import ROOT, StoreConfig

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = ROOT / "migrations"
ALEMBIC_INI = ROOT / "alembic.ini"
_LOCK_KEY = 0x52495053  # "RIPS": the advisory lock taken while migrating on PostgreSQL


def alembic_config(url: str | None = None) -> Config:
    """An Alembic `Config` for the store's migrations (URL only for the command line)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head: str | None = script.get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        revision: str | None = MigrationContext.configure(connection).get_current_revision()
        return revision


def upgrade_head(engine: Engine) -> None:
    """Run `alembic upgrade head` on `engine` unless the database is already there."""
    from alembic import command

    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together: the second waits, then finds the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def prepare_sqlite_file(config: StoreConfig) -> None:
    """Create a SQLite database file's directory (0700) and the file itself (0600)."""
    path = config.sqlite_path
    if path is None or path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)


def ensure_directory(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
