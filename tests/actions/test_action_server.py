"""The action server answers only Rasa: a request without the shared secret is refused.

The server is started as `riposte serve` starts it (`python -m riposte_rasa.action_server`), on a
port of its own, against the test's case store.
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

from devtools.ports import free_ports
from devtools.waiting import wait_until
from riposte.access import SECRET_ENV, ActionSecretError, authorised, secret_from_env
from riposte.store.errors import UnknownCaseError
from riposte.store.repository import CaseRepository
from riposte_rasa.action_server import listen_host
from tests.action_calls import action_call

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-for-the-tests-" + os.urandom(8).hex()


def test_the_secret_is_required_and_long_enough() -> None:
    with pytest.raises(ActionSecretError, match="RIPOSTE_ACTION_SECRET est absente"):
        secret_from_env({})
    with pytest.raises(ActionSecretError, match="trop court .15 caractères"):
        secret_from_env({SECRET_ENV: "x" * 15})
    assert secret_from_env({SECRET_ENV: " " + "x" * 16 + "\n"}) == "x" * 16


def test_only_the_exact_bearer_secret_is_authorised() -> None:
    assert authorised(f"Bearer {SECRET}", SECRET)
    for header in (None, "", SECRET, f"Bearer {SECRET}x", f"Bearer {SECRET[:-1]}", "Bearer é"):
        assert not authorised(header, SECRET), header


def test_the_host_is_loopback_unless_told() -> None:
    assert listen_host(None, {}) == "127.0.0.1"
    assert listen_host(None, {"SANIC_HOST": "0.0.0.0"}) == "127.0.0.1"
    assert listen_host(None, {"RIPOSTE_ACTIONS_HOST": "0.0.0.0"}) == "0.0.0.0"
    assert listen_host("127.0.0.1", {"RIPOSTE_ACTIONS_HOST": "0.0.0.0"}) == "127.0.0.1"


@dataclass
class ActionServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return int(r.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


def start_server(tmp_path: Path, env: dict[str, str]) -> tuple[int, subprocess.Popen[bytes], Path]:
    (port,) = free_ports(1)
    log = tmp_path / "actions.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "riposte_rasa.action_server", "--actions", "actions"]
            + ["--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return port, process, log


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ActionServer]:
    port, process, log = start_server(tmp_path, {SECRET_ENV: SECRET})
    running = ActionServer(port, process, log)

    def up() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            return running.get("/health") == 200
        except OSError:
            return False

    try:
        wait_until(up, "the action server answers /health", timeout=120, interval=0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_request_without_the_secret_is_refused(server: ActionServer, case_store: Path) -> None:
    repo = CaseRepository.from_env()
    code = repo.create_case({}, actor="cli").code
    repo.link_sender(code, "chat", "sender-a")
    call = action_call("action_delete_case", code, "sender-a")  # erase the case of the slot
    for headers in ({}, {"Authorization": "Bearer not-the-secret-at-all"}, {"X-Secret": SECRET}):
        status, body = server.post(call, headers)
        assert status == 401, (headers, status, body)
        assert body == {"error": "unauthorised"}
        assert repo.read_case(code).code == code  # nothing erased
    assert server.get("/actions") == 401  # the list of actions too
    assert server.get("/health") == 200  # the probes' route only says « ok »
    assert code not in server.log.read_text(errors="replace")

    status, body = server.post(call, {"Authorization": f"Bearer {SECRET}"})
    assert status == 200, body
    assert [m["response"] for m in body["responses"]] == ["utter_case_deleted"]
    with pytest.raises(UnknownCaseError):  # Rasa's own call, with the secret: erased
        repo.read_case(code)


def test_the_server_does_not_start_without_a_secret(tmp_path: Path) -> None:
    for secret in ("", "short"):
        _port, process, log = start_server(tmp_path, {SECRET_ENV: secret})
        assert process.wait(timeout=120) == 2
        said = log.read_text(errors="replace")
        assert "Configuration invalide : RIPOSTE_ACTION_SECRET" in said, said
