"""The real stack (`riposte serve`: action server, Rasa server, web page) on free ports, with a
var/ folder of its own, for the integration tests and the benchmarks.

It needs the trained model (models/riposte.tar.gz, `make train`). A developer's running instance
is never touched: other ports, another var/ folder, no database, key or token from outside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.ports import free_ports
from devtools.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "riposte.tar.gz"
RIPOSTE = Path(sys.executable).parent / "riposte"
START_TIMEOUT = 400
READY = "Riposte est prêt"


class StackError(RuntimeError):
    """The stack could not start (no model, exited early, not ready in time)."""


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
            return json.loads(response.read())

    def pseudonym(self, sender: str, channel: str = "rest") -> str:
        """The id Rasa keeps for a channel's sender (the channels pseudonymise it)."""
        from riposte.privacy import load_master_key, pseudonymise
        from riposte.store.config import StoreConfig

        config = StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(self.var_dir)})
        return pseudonymise(channel, sender, load_master_key(config, create=False))

    def tracker(self, sender: str) -> dict[str, Any]:
        assert self.token, "the tracker API needs the stack started with a token"
        url = self.url(f"/conversations/{self.pseudonym(sender)}/tracker?token={self.token}")
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender)["slots"]

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
        raise StackError(f"Trained model missing ({MODEL}): run `make train` first.")
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
    rasa, actions, web = ports
    return Stack(process, rasa, actions, web, var_dir=tmp, token=token)


def wait_ready(stack: Stack, timeout: float = START_TIMEOUT) -> Stack:
    """Wait until `riposte serve` says it is ready; StackError at once if it exits first (the
    stack is stopped when it is not ready in time)."""

    def ready() -> bool:
        if stack.process.poll() is not None:
            raise StackError(f"`riposte serve` exited early:\n{stack.output()}")
        return READY in stack.output()

    try:
        wait_until(ready, "`riposte serve` ready", timeout=timeout, interval=0.5)
    except AssertionError as error:
        stack.stop()
        raise StackError(f"{error}\n{stack.output()}") from None
    return stack
