"""The integration lane: the real stack (`riposte serve`: action server, Rasa server, web page),
PostgreSQL, Redis, Chromium.

Every test of this folder is marked `integration` here (`make test-integration` runs them;
`make test-fast` leaves them out). The stack is started by devtools/stack.py, shared with the
benchmarks, on ports and a var/ folder of its own; the tests share two stacks for the whole
session (`stacks`): without an API token, and with one and the Telegram and Signal channels on
against their fakes. The modules that must own their processes
start their own: the crash test (test_case_file.py kills every process), the fault tests
(test_faults.py runs the servers by hand on PostgreSQL, and breaks them) and the scale-out tests
(test_scale_out.py: two Rasa servers on PostgreSQL and Redis).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from devtools import stack as stack_tools
from devtools.stack import MODEL, ROOT, Stack, StackError, http_status
from tests.channels.fake_signal_api import BOT_NUMBER
from tests.integration.fakes import ThreadedSignal, ThreadedTelegram

__all__ = ["MODEL", "ROOT", "Stack", "http_status", "start_stack", "wait_ready"]

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is in the integration lane (the trained model, a service or a
    browser). Tests marked `stops_stacks` stop the shared stacks: tests/conftest.py orders them
    after every other. Under pytest-xdist each worker has its own shared stacks and receives
    whole modules: the `stops_stacks` tests, alone in their module, are the last it receives."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


# The size of the long runs (the REST fuzz, the scale-out load test), read here only.
# RIPOSTE_TEST_SIZE=ci (the default, what `make test` and CI run) or full (`make test-long`);
# FUZZ_MESSAGES, RIPOSTE_SCALE_CONVERSATIONS and RIPOSTE_SCALE_TURNS still override one number.
SIZE_ENV = "RIPOSTE_TEST_SIZE"
SIZES: dict[str, dict[str, int]] = {
    "ci": {"FUZZ_MESSAGES": 400, "RIPOSTE_SCALE_CONVERSATIONS": 20, "RIPOSTE_SCALE_TURNS": 10},
    "full": {"FUZZ_MESSAGES": 2000, "RIPOSTE_SCALE_CONVERSATIONS": 50, "RIPOSTE_SCALE_TURNS": 20},
}


def run_size(name: str) -> int:
    """One number of the long runs (a key of SIZES) at the size RIPOSTE_TEST_SIZE asks for."""
    size = os.environ.get(SIZE_ENV, "").strip().lower() or "ci"
    if size not in SIZES:
        raise ValueError(f"{SIZE_ENV}={size!r}: expected one of {', '.join(SIZES)}")
    return int(os.environ.get(name, "").strip() or SIZES[size][name])


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def require_postgres_url(tests: str) -> str:
    """The test PostgreSQL's URL; without one, `tests` (e.g. "Fault tests") fail when
    PostgreSQL is required (RIPOSTE_REQUIRE_POSTGRES, set by the Makefile, or CI), else skip."""
    url = os.environ.get("RIPOSTE_TEST_POSTGRES_URL", "").strip()
    if not url:
        how = (
            "run `make test-integration` (it starts one with scripts/postgres-test.sh), or "
            "`export RIPOSTE_TEST_POSTGRES_URL=$(scripts/postgres-test.sh)` before pytest"
        )
        if flag("RIPOSTE_REQUIRE_POSTGRES") or flag("CI"):
            pytest.fail(
                f"{tests}: RIPOSTE_TEST_POSTGRES_URL is not set, but PostgreSQL is "
                f"required here: {how}.",
                pytrace=False,
            )
        pytest.skip(f"RIPOSTE_TEST_POSTGRES_URL is not set: {how}.")
    return url


def create_databases(postgres_url: str, prefix: str) -> tuple[dict[str, str], Callable[[], None]]:
    """Two new PostgreSQL databases for a cluster of servers, `tracker` (Rasa's conversations)
    and `cases` (the case store): their URLs, and the function that drops them."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", future=True)
    suffix = secrets.token_hex(5)
    names = {kind: f"{prefix}_{suffix}_{kind}" for kind in ("tracker", "cases")}
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    urls = {
        kind: make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        for kind, name in names.items()
    }

    def drop() -> None:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return urls, drop


def start_stack(tmp: Path, token: str | None, extra_env: dict[str, str] | None = None) -> Stack:
    """`devtools.stack.start_stack`, a test failure when it cannot start."""
    try:
        return stack_tools.start_stack(tmp, token, extra_env)
    except StackError as error:
        pytest.fail(str(error), pytrace=False)


def wait_ready(stack: Stack) -> Stack:
    """`devtools.stack.wait_ready`, a test failure when the stack does not come up."""
    try:
        return stack_tools.wait_ready(stack)
    except StackError as error:
        pytest.fail(str(error), pytrace=False)


TELEGRAM_SECRET = "riposte-test-secret-0123456789"


@dataclass
class Fakes:
    telegram: ThreadedTelegram
    signal: ThreadedSignal


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    """The Telegram and Signal fakes the token stack talks to (tests/integration/fakes.py)."""
    both = Fakes(ThreadedTelegram(), ThreadedSignal())
    yield both
    both.telegram.stop()
    both.signal.stop()


def channel_env(fakes: Fakes) -> dict[str, str]:
    """Telegram and Signal on, against the fakes, as test_telegram_stack.py and
    test_signal_stack.py need them."""
    return {
        "TELEGRAM_TOKEN": "123456:TEST-token",
        "TELEGRAM_WEBHOOK_URL": "https://riposte.example.org/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": fakes.telegram.url,
        "SIGNAL_NUMBER": BOT_NUMBER,
        "SIGNAL_API_URL": fakes.signal.url,
        "SIGNAL_MODE": "json-rpc",
    }


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory, fakes: Fakes) -> Iterator[dict[str, Stack]]:
    """The two shared stacks, started at once: "plain" without an API token; "token" with one,
    and with the Telegram and Signal channels on against their fakes."""
    plain = start_stack(tmp_path_factory.mktemp("plain"), token=None)
    token = "test-token-" + os.urandom(12).hex()
    with_token = start_stack(
        tmp_path_factory.mktemp("token"), token=token, extra_env=channel_env(fakes)
    )
    wait_ready(plain)
    wait_ready(with_token)
    yield {"plain": plain, "token": with_token}
    plain.stop()
    with_token.stop()


@pytest.fixture(scope="session")
def stack(stacks: dict[str, Stack]) -> Stack:
    """The stack without a token: the Rasa HTTP API is off."""
    return stacks["plain"]


@pytest.fixture(scope="session")
def bot(stacks: dict[str, Stack]) -> Stack:
    """The stack with the Rasa HTTP API on (its token lets a test read the conversation)."""
    return stacks["token"]


# Chromium flags: no sandbox as root, and no background connection to
# Google's services (the machine's closed network refuses them, slowly).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("RIPOSTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            "Chromium introuvable : `make test` l'installe (scripts/chromium-test.sh) ; "
            "sinon installez le paquet Debian chromium ou indiquez son chemin dans "
            "RIPOSTE_CHROMIUM."
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for the web page's tests (one per test module)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
