"""Fixtures of the case store tests: a fresh database per test, on SQLite and, when
`RIPOSTE_TEST_POSTGRES_URL` is set (e.g. `postgresql+psycopg2://postgres@localhost/postgres`,
a role allowed to create databases), on a throw-away PostgreSQL database too."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository

POSTGRES_URL = os.environ.get("RIPOSTE_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
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


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store/riposte.db"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"riposte_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
