"""Compose's PostgreSQL role script gives Riposte a role that is not a superuser, and enough.

deploy/postgres/init-riposte-role.sh is run by the postgres image on its first start. Here it
runs, with psql, against the test server (`RIPOSTE_TEST_POSTGRES_URL`), on a database and a
role of its own: the role can create Riposte's tables (Alembic) and Rasa's, and nothing else.
psql comes with the server (scripts/postgres-test.sh installs both).
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.store.conftest import POSTGRES_REQUIRED, POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "postgres" / "init-riposte-role.sh"

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL or POSTGRES_REQUIRED),
    reason="RIPOSTE_TEST_POSTGRES_URL is not set (PostgreSQL tests not required here)",
)


@pytest.fixture
def role_database(postgres_admin: Engine) -> Iterator[tuple[str, str]]:
    """A fresh database, the name of a role the script will create; both dropped after."""
    suffix = secrets.token_hex(4)
    database, role = f"riposte_role_{suffix}", f"riposte_app_{suffix}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield database, role
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            # The script closes the database postgres to PUBLIC: give the test server back.
            connection.execute(text("GRANT CONNECT ON DATABASE postgres TO PUBLIC"))


def _run_script(database: str, role: str) -> None:
    admin = make_url(POSTGRES_URL)
    env = {
        **os.environ,
        "PGHOST": admin.host or "",
        "PGPORT": str(admin.port or 5432),
        "PGPASSWORD": admin.password or "",
        "POSTGRES_USER": admin.username or "postgres",
        "POSTGRES_DB": database,
        "RIPOSTE_DB_USER": role,
        "RIPOSTE_DB_PASSWORD": "a'password;with quotes",
    }
    result = subprocess.run(
        ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _as_role(role: str, database: str) -> str:
    url = make_url(POSTGRES_URL).set(username=role, password="a'password;with quotes")
    return url.set(database=database).render_as_string(hide_password=False)


def test_the_role_is_not_a_superuser_and_owns_only_its_database(
    role_database: tuple[str, str], tmp_path: Path
) -> None:
    database, role = role_database
    _run_script(database, role)
    engine = create_engine(_as_role(role, database), future=True)
    try:
        with engine.connect() as connection:
            attributes = connection.execute(
                text(
                    "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            ).one()
            assert tuple(attributes) == (False, False, False, False, False)
            # Rasa's tracker store creates its own table in the database.
            connection.execute(text("CREATE TABLE events (id serial PRIMARY KEY)"))
            connection.commit()
            with pytest.raises(ProgrammingError):  # no file access, which needs a superuser
                connection.execute(text("COPY events TO '/tmp/riposte-role-test.csv'"))
    finally:
        engine.dispose()
    # The case store migrates and runs as this role.
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env = {
        "RIPOSTE_DATABASE_URL": _as_role(role, database),
        "RIPOSTE_SECRET_KEY": key,
        "RIPOSTE_DATA_DIR": str(tmp_path / "data"),
        "RIPOSTE_VAR_DIR": str(tmp_path),
    }
    with CaseRepository(StoreConfig.from_env(env)) as repo:
        repo.ensure_ready()
    # The database postgres is closed to it.
    other = create_engine(_as_role(role, "postgres"), future=True)
    try:
        with pytest.raises(OperationalError, match="permission denied"):
            with other.connect():
                pass
    finally:
        other.dispose()
