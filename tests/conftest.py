"""The two lanes of the suite: `make test-fast` runs `pytest -m "not integration"` (no trained
model, no PostgreSQL or Redis, no browser); `make test-integration` runs the rest with the
services started and required.

Everything under tests/integration/ is marked there (tests/integration/conftest.py). Elsewhere a
test needs a service through the fixture it uses: it is marked here, by that fixture, so that no
module has to say it and none is skipped in the fast lane for want of a server.

Both lanes run on pytest-xdist workers that receive whole modules (`--dist loadfile
--no-loadscope-reorder`) in the order set here: the longest first, so that the short ones fill
in behind them and no worker is left with a long module at the end.
"""

from __future__ import annotations

from pathlib import Path

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


TESTS = Path(__file__).resolve().parent

# The longest modules of each lane (seconds of one run on 2 cores), sent to the workers first.
# Only an order: a module missing here runs after these, in file order.
LONGEST_FIRST = (
    # make test-integration
    "integration/test_follow_ups_stack.py",  # ~80 s: its own stack, killed and restarted
    "integration/test_hostile_input.py",  # ~70 s: the REST and socket.io fuzz
    "integration/test_case_file.py",  # ~45 s: every process killed
    "integration/test_follow_ups_cluster.py",  # ~40 s: two Rasa servers, two schedulers
    "integration/test_scale_out.py",  # ~40 s: two Rasa servers on PostgreSQL and Redis
    "integration/test_webchat.py",  # ~30 s: Chromium
    "integration/test_faults.py",  # ~25 s: servers broken by hand
    # make test-fast
    "understanding/test_heldout.py",  # ~25 s: the corpus's 5-fold cross-validation
    "channels/test_facts_classifier.py",  # ~10 s: the facts model trained on the whole corpus
    "store/test_access.py",  # ~13 s: scrypt on every attempt
    "core/test_knowledge.py",  # ~8 s
    "actions/test_case_actions.py",  # ~7 s
    "core/test_deployment_files.py",  # ~6 s
    "actions/test_draft_actions.py",  # ~6 s
    "core/test_learned.py",  # ~6 s
)


def run_order(item: pytest.Item) -> tuple[bool, int]:
    """Tests that stop the integration lane's shared stacks last (marked `stops_stacks`);
    before them, the longest modules first."""
    name = item.path.relative_to(TESTS).as_posix() if TESTS in item.path.parents else ""
    rank = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    return item.get_closest_marker("stops_stacks") is not None, rank


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if needs_a_service(item):
            item.add_marker(pytest.mark.integration)
    items.sort(key=run_order)
