"""Start the real stack (`riposte serve`: action server, Rasa server, web page) for tests.

These tests need the trained model (`make test` trains it first). They use their own ports
and a temporary var/ folder so that they never touch a developer's running instance.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_ports
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "riposte.tar.gz"
RIPOSTE = Path(sys.executable).parent / "riposte"
START_TIMEOUT = 400


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `stops_stacks` stop the shared stacks: they run after every other test."""
    items.sort(key=lambda item: item.get_closest_marker("stops_stacks") is not None)


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def require_postgres_url(tests: str) -> str:
    """The test PostgreSQL's URL; without one, `tests` (e.g. "Fault tests") fail when
    PostgreSQL is required (RIPOSTE_REQUIRE_POSTGRES, set by the Makefile, or CI), else skip."""
    url = os.environ.get("RIPOSTE_TEST_POSTGRES_URL", "").strip()
    if not url:
        how = (
            "run `make test-unit` (it starts one with scripts/postgres-test.sh), or "
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


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    rasa_port: int
    actions_port: int
    web_port: int
    var_dir: Path
    token: str | None

    def url(self, path: str, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.rasa_port}{path}"

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            self.url("/webhooks/rest/webhook"),
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def pseudonym(self, sender: str, channel: str = "rest") -> str:
        """The id Rasa keeps for a channel's sender (riposte/channels pseudonymise it)."""
        from riposte.privacy import load_master_key, pseudonymise
        from riposte.store.config import StoreConfig

        config = StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(self.var_dir)})
        return pseudonymise(channel, sender, load_master_key(config, create=False))

    def tracker(self, sender: str) -> dict[str, Any]:
        assert self.token, "the tracker API needs the stack started with a token"
        url = self.url(f"/conversations/{self.pseudonym(sender)}/tracker?token={self.token}")
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender)["slots"]  # type: ignore[no-any-return]

    def output(self) -> str:
        return (self.var_dir / "serve.out").read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return int(self.process.returncode)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def start_stack(tmp: Path, token: str | None, extra_env: dict[str, str] | None = None) -> Stack:
    """Launch `riposte serve` on free ports; `wait_ready` waits for it."""
    if not MODEL.is_file():
        pytest.fail(f"Trained model missing ({MODEL}): run `make test`, which trains it first.")
    ports = free_ports(3)
    env = dict(os.environ)
    env.update(
        {
            "RIPOSTE_RASA_PORT": str(ports[0]),
            "RIPOSTE_ACTIONS_PORT": str(ports[1]),
            "RIPOSTE_WEB_PORT": str(ports[2]),
            "RIPOSTE_VAR_DIR": str(tmp),
            "RIPOSTE_API_TOKEN": token or "",
            "TRACKER_STORE_URL": "",
            "ACTION_ENDPOINT_URL": "",
            # The case store under the stack's own var/ folder, with its own key.
            "RIPOSTE_DATABASE_URL": "",
            "RIPOSTE_DATA_DIR": "",
            "RIPOSTE_SECRET_KEY": "",
            "TELEGRAM_TOKEN": "",
        }
    )
    env.update(extra_env or {})
    out = open(tmp / "serve.out", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(RIPOSTE), "serve"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return Stack(process, *ports, var_dir=tmp, token=token)


def wait_ready(stack: Stack) -> Stack:
    """Wait until `riposte serve` says it is ready; fail at once if it exits first."""

    def ready() -> bool:
        if stack.process.poll() is not None:
            pytest.fail(f"`riposte serve` exited early:\n{stack.output()}", pytrace=False)
        return "Riposte est prêt" in stack.output()

    try:
        wait_until(ready, "`riposte serve` ready", timeout=START_TIMEOUT, interval=0.5)
    except AssertionError as error:
        stack.stop()
        pytest.fail(f"{error}\n{stack.output()}", pytrace=False)
    return stack


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Stack]]:
    """Two stacks at once (they start in parallel): without and with an API token."""
    plain = start_stack(tmp_path_factory.mktemp("plain"), token=None)
    token = "test-token-" + os.urandom(12).hex()
    with_token = start_stack(tmp_path_factory.mktemp("token"), token=token)
    wait_ready(plain)
    wait_ready(with_token)
    yield {"plain": plain, "token": with_token}
    plain.stop()
    with_token.stop()


@pytest.fixture(scope="session")
def stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["plain"]
