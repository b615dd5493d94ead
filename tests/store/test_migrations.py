"""Alembic: upgrade from empty, downgrade to base, and models that match the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from riposte.store.config import StoreConfig
from riposte.store.migrate import ALEMBIC_INI, head_revision
from riposte.store.models import Base
from riposte.store.repository import CaseRepository
from tests.store.conftest import FakeClock, sample_case

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "store_meta",
    "cases",
    "incidents",
    "evidence",
    "steps",
    "letters",
    "senders",
    "audit",
    "inbox",
    "open_attempts",
    "link_uses",
}


def tables(url: str) -> set[str]:
    engine = create_engine(url, future=True)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture
def alembic_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Config:
    """The Alembic configuration of the repository, URL from RIPOSTE_DATABASE_URL."""
    monkeypatch.setenv("RIPOSTE_DATABASE_URL", database_url)
    return Config(str(ALEMBIC_INI))


def test_upgrade_head_from_empty_then_downgrade_base(
    alembic_env: Config, database_url: str
) -> None:
    command.upgrade(alembic_env, "head")
    assert TABLES | {"alembic_version"} <= tables(database_url)
    command.downgrade(alembic_env, "base")
    assert tables(database_url) <= {"alembic_version"}
    command.upgrade(alembic_env, "head")  # and again
    assert TABLES <= tables(database_url)


def test_models_match_the_migrations(alembic_env: Config, database_url: str) -> None:
    command.upgrade(alembic_env, "head")
    engine = create_engine(database_url, future=True)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_store_upgrades_itself_on_first_use(
    config: StoreConfig, clock: FakeClock, database_url: str
) -> None:
    if config.sqlite_path is not None:
        assert not config.sqlite_path.exists()
    else:
        assert not tables(database_url) & TABLES
    repo = CaseRepository(config, clock=clock)
    repo.create_case(sample_case())
    engine = create_engine(database_url, future=True)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    engine.dispose()
    repo.close()
    # A second instance finds the schema at head and the data readable.
    again = CaseRepository(config, clock=clock)
    assert again.cases_with_deadlines(clock().date()) is not None
    again.close()


def test_alembic_command_line_reads_riposte_database_url(tmp_path: Path) -> None:
    alembic = Path(sys.executable).parent / "alembic"
    if not alembic.exists():
        pytest.fail("alembic command not installed")
    url = f"sqlite:///{tmp_path}/cli.db"
    env = {**os.environ, "RIPOSTE_DATABASE_URL": url}
    for args in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
        result = subprocess.run(
            [str(alembic), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    assert TABLES <= tables(url)
