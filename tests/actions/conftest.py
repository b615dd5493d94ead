"""Every action test gets its own case store (a temporary var/ folder, a fresh key)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

import actions.case
import riposte.web.uploads

ROOT = Path(__file__).resolve().parents[2]


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
    actions.case.reset_repository()
    riposte.web.uploads.reset()
    yield var
    actions.case.reset_repository()
    riposte.web.uploads.reset()
