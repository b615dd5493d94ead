"""Fixtures of the case store tests: a fresh database per test, on SQLite and, when
`RIPOSTE_TEST_POSTGRES_URL` is set (e.g. `postgresql+psycopg2://postgres@localhost/postgres`,
a role allowed to create databases), on a throw-away PostgreSQL database too.

`make test-integration` starts a private server (`scripts/postgres-test.sh`) and sets that variable.
When PostgreSQL is required (`RIPOSTE_REQUIRE_POSTGRES=1`, set by the Makefile, or `CI` set),
a missing URL or an unreachable server makes every PostgreSQL variant fail: never a skip.
A plain `pytest` without these variables runs on SQLite only."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


POSTGRES_URL = os.environ.get("RIPOSTE_TEST_POSTGRES_URL", "").strip()
POSTGRES_REQUIRED = _flag("RIPOSTE_REQUIRE_POSTGRES") or _flag("CI")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL or POSTGRES_REQUIRED else [])
HOW_TO_START = (
    "run `make test-integration` (it starts a throw-away server with scripts/postgres-test.sh), or "
    "`export RIPOSTE_TEST_POSTGRES_URL=$(scripts/postgres-test.sh)` before pytest"
)
START = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
TODAY = START.date()

# Personal data of the sample case: none of it may appear in clear at rest.
SECRET_WORDS = (
    "Zorglubin",
    "Camille",
    "camille.zorglubin@example.org",
    "0612345678",
    "12 rue des Lilas",
    "@troll_quixotique",
    "Gaspard Malvoisin",
    "https://x.com/troll_quixotique/status/1",
    "x.com/troll_quixotique",
    "charlatan patenté",
    "empoisonneuse notoire",
    "Nantes",
    "capture-zorglubin.png",
)
FILE_CONTENTS = (
    b"\x89PNG fake screenshot showing @troll_quixotique calling Zorglubin a charlatan",
    b"\x89PNG second capture: empoisonneuse notoire",
    b"%PDF-1.4 third capture, a saved page of https://x.com/troll_quixotique/status/3",
)


def sample_case() -> dict[str, Any]:
    """A case in the shared format with every field written out (so it round-trips as is)."""
    return {
        "victim": {
            "title": "Dr",
            "first_name": "Camille",
            "last_name": "Zorglubin",
            "profession": "médecin généraliste",
            "practice": "liberal",
            "address": "12 rue des Lilas",
            "postal_code": "44000",
            "city": "Nantes",
            "email": "camille.zorglubin@example.org",
            "phone": "0612345678",
        },
        "incident": {
            "platforms": ["x", "google_reviews"],
            "offenses": ["insult", "defamation"],
            "discriminatory": False,
            "first_published": "2026-06-01",
            "last_seen": "2026-11-10",
            "author": {
                "known": True,
                "relation": "patient",
                "handles": ["@troll_quixotique", "@troll_bis"],
                "name": "Gaspard Malvoisin",
            },
            "volume": "repeated",
            "public": True,
            "physical_danger": False,
            "summary": "Des messages me traitent de charlatan patenté.",
        },
        "evidence": [
            {
                "url": "https://x.com/troll_quixotique/status/1",
                "captured_at": "2026-06-02T09:15:00+02:00",
                "published_at": "2026-06-01",
                "author": "@troll_quixotique",
                "excerpt": "charlatan patenté",
                "file": "captures/capture-zorglubin.png",
            },
            {
                "url": "https://x.com/troll_quixotique/status/2",
                "captured_at": "2026-07-14T21:00:00+00:00",
                "author": "@troll_quixotique",
                "excerpt": "empoisonneuse notoire",
                "file": "captures/capture-2.png",
            },
            {
                "url": "https://x.com/troll_quixotique/status/3",
                "captured_at": "2026-11-10T08:00:00+01:00",
                "file": "page-3.pdf",
            },
            {
                "url": "https://x.com/troll_quixotique/status/4",
                "excerpt": "sans capture",
            },
        ],
        "steps_done": ["preserve_evidence", "block_authors"],
        "court_city": "Nantes",
    }


def sample_files() -> dict[int, bytes]:
    return dict(enumerate(FILE_CONTENTS))


def write_case_dir(directory: Path, case: dict[str, Any] | None = None) -> Path:
    """The sample case as `directory/case.json` with its evidence files beside it."""
    case = case or sample_case()
    for item, content in zip(case.get("evidence", []), FILE_CONTENTS, strict=False):
        if "file" in item:
            path = directory / item["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    path = directory / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _fail(reason: str) -> NoReturn:
    pytest.fail(f"PostgreSQL store tests: {reason}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server, checked once; a clear failure when it cannot serve."""
    if not POSTGRES_URL:
        _fail(
            "RIPOSTE_TEST_POSTGRES_URL is not set, but PostgreSQL is required here "
            f"(RIPOSTE_REQUIRE_POSTGRES or CI is set): {HOW_TO_START}."
        )
    try:
        url = make_url(POSTGRES_URL)
    except ArgumentError:
        _fail("RIPOSTE_TEST_POSTGRES_URL is not a valid SQLAlchemy URL.")
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "postgresql":
        _fail(f"RIPOSTE_TEST_POSTGRES_URL names a {url.get_backend_name()} database ({shown}).")
    connect_args = {"connect_timeout": 5} if url.get_driver_name() == "psycopg2" else {}
    admin = create_engine(url, isolation_level="AUTOCOMMIT", future=True, connect_args=connect_args)
    try:
        with admin.connect() as connection:
            version = connection.dialect.server_version_info or (0,)
            allowed = connection.execute(
                text("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
            ).scalar()
    except SQLAlchemyError as error:
        problem = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    else:
        problem = ""
    if problem:  # failed outside the `except` block: no chained traceback in the report
        admin.dispose()
        _fail(f"cannot connect to {shown}: {problem}. Is the server running? {HOW_TO_START}.")
    if version < (13,):
        admin.dispose()
        _fail(f"{shown} runs PostgreSQL {version}; 13 or later is needed (DROP DATABASE … FORCE).")
    if not allowed:
        admin.dispose()
        _fail(f"the role of {shown} may not create databases (CREATEDB needed).")
    yield admin
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store/riposte.db"
        return
    # A database of its own per test, dropped afterwards even if connections remain open.
    admin: Engine = request.getfixturevalue("postgres_admin")
    name = f"riposte_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> StoreConfig:
    store = tmp_path / "store"
    return StoreConfig(
        database_url=database_url, data_dir=store / "data", key_file=store / "secret.key"
    )


@pytest.fixture
def env(config: StoreConfig, tmp_path: Path) -> dict[str, str]:
    """The environment the command line reads for the same store."""
    return {
        "RIPOSTE_VAR_DIR": str(tmp_path / "store"),
        "RIPOSTE_DATABASE_URL": config.database_url,
        "RIPOSTE_DATA_DIR": str(config.data_dir),
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repo(config: StoreConfig, clock: FakeClock) -> Iterator[CaseRepository]:
    repository = CaseRepository(config, clock=clock)
    yield repository
    repository.close()


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "input"
    directory.mkdir()
    write_case_dir(directory)
    return directory


def copy_case_dir(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target / "case.json"
