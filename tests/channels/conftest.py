"""The channels put received files in the case store: each test gets a store of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sanic import Sanic

from riposte.privacy import generate_key_text
from riposte.store.repository import reset_shared_repository


@pytest.fixture
def fresh_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The store of the test's RIPOSTE_VAR_DIR only (no database or data dir from outside)."""
    monkeypatch.delenv("RIPOSTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RIPOSTE_DATA_DIR", raising=False)
    reset_shared_repository()
    yield
    reset_shared_repository()


@pytest.fixture
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic apps made by the test may reuse names and skip the signal handlers."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def channel_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_store: None) -> None:
    """A channel served in the test process: a pseudonymisation key and a var/ of its own."""
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path))
