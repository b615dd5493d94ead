"""Every action test gets its own case store (a temporary var/ folder, a fresh key), fresh
rate limits, and the same day: `TODAY`, France's date for every action and store call."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

import riposte.web.uploads
from riposte import clock
from riposte.chat import case
from riposte.ratelimit import RateLimiter
from riposte.store.repository import reset_shared_repository

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture(autouse=True)
def case_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    var = tmp_path / "var"
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(var))
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{var}/tracker.db")
    reset_shared_repository()
    riposte.web.uploads.reset()
    monkeypatch.setattr(case, "resume_limiter", RateLimiter(case.RESUME_RATE, case.RESUME_BURST))
    monkeypatch.setattr(case, "cases_limiter", RateLimiter(case.CASES_RATE, case.CASES_BURST))
    yield var
    reset_shared_repository()
    riposte.web.uploads.reset()


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The actions ask `riposte.clock.today` (through actions.common.today) for the date."""
    monkeypatch.setattr(clock, "today", lambda now=None: TODAY)
