"""Follow-ups with two Rasa servers and two schedulers on PostgreSQL (and Redis for the
conversations' locks): each doctor gets each reminder exactly once.

Server A and its scheduler are `riposte serve`; server B is a second Rasa server on the same
tracker store, case store and credentials, and a second scheduler (`riposte follow-ups
--rasa-url B`) sends through it. Both schedulers claim from the same case store at the same
time, every second, on a controllable clock (RIPOSTE_CLOCK_FILE).

Needs the Redis and PostgreSQL test servers (`make test-integration` starts both); fails,
never skips, when they are required (CI) and missing.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from devtools.ports import free_port
from devtools.waiting import wait_until
from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.integration.conftest import (
    MODEL,
    ROOT,
    Fakes,
    Stack,
    channel_env,
    create_databases,
    require_postgres_url,
    start_stack,
    wait_ready,
)
from tests.integration.fakes import ThreadedSignal, ThreadedTelegram
from tests.integration.test_follow_ups_stack import (
    QUIET,
    START,
    open_case,
    set_clock,
)
from tests.integration.test_rungs_telegram import Chat
from tests.integration.test_scale_out import _create_tracker_table
from tests.integration.test_telegram_stack import CHAT_ID
from tests.store.test_lock_store import require_redis_url

DOCTORS = 4


@dataclass
class Cluster:
    stack: Stack
    telegram: ThreadedTelegram
    clock: Path
    env: dict[str, str]
    rasa_b_port: int
    processes: list[subprocess.Popen[bytes]]

    def repository(self) -> CaseRepository:
        return CaseRepository(StoreConfig.from_env(self.env))


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    from riposte.cli.serve import _die_with_parent

    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_url = require_redis_url()
    postgres_url = require_postgres_url("Follow-up cluster tests")
    if not MODEL.is_file():
        pytest.fail(f"Trained model missing ({MODEL}): run `make test`, which trains it first.")
    urls, drop_databases = create_databases(postgres_url, "riposte_fu")
    tmp = tmp_path_factory.mktemp("follow-ups-cluster")
    clock = tmp / "clock.txt"
    set_clock(clock, START)
    telegram, signal_fake = ThreadedTelegram(), ThreadedSignal()
    secret_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    token = "cluster-token-" + secrets.token_hex(12)
    shared = {
        "TRACKER_STORE_URL": urls["tracker"],
        "RIPOSTE_DATABASE_URL": urls["cases"],
        "RIPOSTE_SECRET_KEY": secret_key,
        "REDIS_URL": redis_url,
        "RIPOSTE_ACTION_SECRET": secrets.token_urlsafe(32),
        "RIPOSTE_CLOCK_FILE": str(clock),
        "RIPOSTE_FOLLOW_UP_INTERVAL": "1",
    }
    processes: list[subprocess.Popen[bytes]] = []
    stack: Stack | None = None
    a_dir, b_dir = tmp / "a", tmp / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    try:
        _create_tracker_table(urls["tracker"], secret_key)
        stack = wait_ready(
            start_stack(a_dir, token, {**channel_env(Fakes(telegram, signal_fake)), **shared})
        )
        env_b = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "SIGNAL_"))
        }
        env_b.update(shared)
        rasa_b = free_port()
        env_b.update(
            {
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{stack.actions_port}/webhook",
                "RIPOSTE_VAR_DIR": str(b_dir),
                "RIPOSTE_API_TOKEN": token,
                "RIPOSTE_RASA_PORT": str(rasa_b),
                "RASA_TELEMETRY_ENABLED": "false",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            }
        )
        # Server B: Riposte's Rasa launcher (the HTTP API on, with the token), with A's
        # channels (the same Telegram bot and Signal bridge token).
        processes.append(
            _spawn(
                [
                    sys.executable,
                    "-m",
                    "riposte_rasa.server",
                    "run",
                    "--model",
                    str(MODEL),
                    "--endpoints",
                    "endpoints.yml",
                    "--credentials",
                    str(a_dir / "credentials.yml"),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(rasa_b),
                ],
                env_b,
                b_dir / "rasa.log",
            )
        )
        url_b = f"http://127.0.0.1:{rasa_b}"

        def b_answers() -> bool:
            if processes[0].poll() is not None:
                pytest.fail(f"Rasa server B exited:\n{(b_dir / 'rasa.log').read_text()[-4000:]}")
            with urllib.request.urlopen(url_b + "/", timeout=10) as response:  # noqa: S310
                return bool(response.status == 200)

        wait_until(b_answers, "Rasa server B answering", timeout=400, ignoring=(OSError,))
        # The second scheduler, asking server B.
        processes.append(
            _spawn(
                [sys.executable, "-m", "riposte.cli", "follow-ups", "--rasa-url", url_b],
                env_b,
                b_dir / "follow-ups.log",
            )
        )
        yield Cluster(
            stack, telegram, clock, {**shared, "RIPOSTE_VAR_DIR": str(a_dir)}, rasa_b, processes
        )
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
        if stack is not None:
            stack.stop()
        telegram.stop()
        signal_fake.stop()
        drop_databases()


def test_two_rasa_servers_and_two_schedulers_send_each_reminder_once(cluster: Cluster) -> None:
    scheduler_b = cluster.processes[1]
    assert scheduler_b.poll() is None, "the second scheduler is running"
    chats = [
        Chat((cluster.stack, cluster.telegram), CHAT_ID + 900 + n, 9000 + 100 * n)
        for n in range(DOCTORS)
    ]
    codes = [open_case(chat.say)[0] for chat in chats]
    with cluster.repository() as repo:
        firsts = [repo.follow_ups_of(code)[0] for code in codes]
    assert len({f.due_at for f in firsts}) == 1  # the same day for all: one race for each
    set_clock(cluster.clock, firsts[0].due_at + timedelta(minutes=1))

    def all_sent() -> bool:
        with cluster.repository() as repo:
            return all(repo.follow_ups_of(code)[0].state == "sent" for code in codes)

    wait_until(all_sent, "every doctor's first reminder sent", timeout=120)
    time.sleep(QUIET)
    for chat in chats:
        got = [
            c for c in chat.sent() if "Rappel : le délai pour porter plainte" in c.fields["text"]
        ]
        assert len(got) == 1, [c.fields["text"][:80] for c in got]
    assert scheduler_b.poll() is None
    logs = (cluster.stack.var_dir / "log" / "follow-ups.log").read_text()
    logs += (Path(cluster.env["RIPOSTE_VAR_DIR"]).parent / "b" / "follow-ups.log").read_text()
    assert logs.count(" sent on telegram") == DOCTORS
    for code in codes:
        assert code not in logs
