"""The channels put received files in the case store: each test gets a store of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riposte.store.repository import reset_shared_repository


@pytest.fixture
def fresh_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The store of the test's RIPOSTE_VAR_DIR only (no database or data dir from outside)."""
    monkeypatch.delenv("RIPOSTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RIPOSTE_DATA_DIR", raising=False)
    reset_shared_repository()
    yield
    reset_shared_repository()
