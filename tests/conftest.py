"""The two lanes of the suite: `make test-fast` runs `pytest -m "not integration"` (no trained
model, no PostgreSQL or Redis, no browser); `make test-integration` runs the rest with the
services started and required.

Everything under tests/integration/ is marked there (tests/integration/conftest.py). Elsewhere a
test needs a service through the fixture it uses: it is marked here, by that fixture, so that no
module has to say it and none is skipped in the fast lane for want of a server.
"""

from __future__ import annotations

import pytest

# Fixtures that connect to a test server (tests/store/conftest.py, tests/store/test_lock_store.py).
SERVICE_FIXTURES = frozenset({"postgres_admin", "redis_url"})
# Parametrized fixtures whose value names a test server: the store tests' PostgreSQL variant.
SERVICE_PARAMS = {"database_url": "postgresql"}


def needs_a_service(item: pytest.Item) -> bool:
    if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    return any(params.get(name) == value for name, value in SERVICE_PARAMS.items())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if needs_a_service(item):
            item.add_marker(pytest.mark.integration)
