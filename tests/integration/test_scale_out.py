"""Several Rasa servers on one set of conversations: real processes, PostgreSQL and Redis.

Started once for the module: a full `riposte serve` stack (action server, Rasa server A, web
page) on PostgreSQL (tracker store and case store) with REDIS_URL, and a second Rasa server B
started exactly as docs/exploitation.md says an extra server joins: `rasa run -p … --endpoints
endpoints.yml --credentials credentials.yml` with the same exported variables. Both use the
same master key (RIPOSTE_SECRET_KEY): same pseudonyms, same encryption.

Needs the Redis and PostgreSQL test servers (`make test-integration` starts both and sets
RIPOSTE_TEST_REDIS_URL and RIPOSTE_TEST_POSTGRES_URL); fails, never skips, when
RIPOSTE_REQUIRE_REDIS / RIPOSTE_REQUIRE_POSTGRES (or CI) is set and one is missing.

The load test's size: RIPOSTE_SCALE_CONVERSATIONS × RIPOSTE_SCALE_TURNS, 20 × 10 at
RIPOSTE_TEST_SIZE=ci (the default), 50 × 20 at full (`make test-long`: 1,000 turns in about 40 s
on a 2-core machine); see tests/integration/conftest.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devtools.ports import free_port
from devtools.waiting import timeout_factor, wait_until
from riposte.privacy import load_master_key, pseudonymise
from riposte.store.codes import mask_shown_passphrase
from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.integration.conftest import (
    MODEL,
    ROOT,
    Stack,
    create_databases,
    require_postgres_url,
    run_size,
    start_stack,
    wait_ready,
)
from tests.integration.test_case_file import ANSWERS, CREATED, HANDLE, OPEN_CASE, texts
from tests.store.test_lock_store import require_redis_url

RASA_START_TIMEOUT = 400
CONVERSATIONS = run_size("RIPOSTE_SCALE_CONVERSATIONS")
TURNS = run_size("RIPOSTE_SCALE_TURNS")
# What the doctors say after the first message (each turn also carries its own marker).
SMALL_TALK = (
    "bonjour",
    "pourquoi ?",
    "mes délais",
    "merci",
    "c'est quoi Pharos ?",
    "je ne sais pas",
    "injure ou diffamation ?",
    "d'accord",
)


@dataclass
class Cluster:
    stack: Stack  # riposte serve: actions, Rasa A, web page
    rasa_b_port: int
    env_b: dict[str, str]
    log_b: Path
    secret_key: str
    cases_url: str
    rasa_b: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ports(self) -> tuple[int, int]:
        return self.stack.rasa_port, self.rasa_b_port

    def start_b(self) -> None:
        """The extra server, with Rasa's standard command (docs/exploitation.md)."""
        log = open(self.log_b, "ab")  # noqa: SIM115 (lives with the child)
        from riposte.cli.serve import _die_with_parent

        self.rasa_b = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "-p",
                str(self.rasa_b_port),
                "-i",
                "127.0.0.1",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--model",
                str(MODEL),
            ],
            cwd=ROOT,
            env=self.env_b,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()

    def wait_b(self) -> float:
        """Wait until server B answers on its port (fail at once if it exits); its start time."""
        started = time.monotonic()
        url = f"http://127.0.0.1:{self.rasa_b_port}/"

        def answers() -> bool:
            assert self.rasa_b is not None
            if self.rasa_b.poll() is not None:
                pytest.fail(f"Rasa server B exited early:\n{self.log_b.read_text()[-4000:]}")
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
                return bool(response.status == 200)

        try:
            wait_until(
                answers,
                f"Rasa server B answering on {url}",
                timeout=RASA_START_TIMEOUT,
                interval=0.5,
                ignoring=(OSError,),
            )
        except AssertionError as error:
            pytest.fail(f"{error}\n{self.log_b.read_text()[-4000:]}", pytrace=False)
        return time.monotonic() - started

    def kill_b(self, sig: int = signal.SIGKILL) -> None:
        if self.rasa_b is not None and self.rasa_b.poll() is None:
            try:
                os.killpg(self.rasa_b.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.rasa_b.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.rasa_b.pid, signal.SIGKILL)
                self.rasa_b.wait()

    # ------------------------------------------------------------------ talking

    def say(self, server: int, sender: str, message: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[server]}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def pseudonym(self, sender: str) -> str:
        config = StoreConfig.from_env(
            {"RIPOSTE_VAR_DIR": str(self.stack.var_dir), "RIPOSTE_SECRET_KEY": self.secret_key}
        )
        return pseudonymise("rest", sender, load_master_key(config, create=False))

    def tracker(self, sender: str) -> dict[str, Any]:
        url = self.stack.url(
            f"/conversations/{self.pseudonym(sender)}/tracker?token={self.stack.token}"
        )
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def repository(self) -> CaseRepository:
        return CaseRepository(
            StoreConfig.from_env(
                {
                    "RIPOSTE_VAR_DIR": str(self.stack.var_dir),
                    "RIPOSTE_DATABASE_URL": self.cases_url,
                    "RIPOSTE_SECRET_KEY": self.secret_key,
                }
            )
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_url = require_redis_url()
    postgres_url = require_postgres_url("Scale-out tests")
    if not MODEL.is_file():
        pytest.fail(f"Trained model missing ({MODEL}): run `make test`, which trains it first.")
    urls, drop_databases = create_databases(postgres_url, "riposte_scale")
    secret_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    shared = {
        "TRACKER_STORE_URL": urls["tracker"],
        "RIPOSTE_DATABASE_URL": urls["cases"],
        "RIPOSTE_SECRET_KEY": secret_key,
        "REDIS_URL": redis_url,
        # What docs/exploitation.md says to export on an extra server: the action secret too.
        "RIPOSTE_ACTION_SECRET": secrets.token_urlsafe(32),
    }
    tmp = tmp_path_factory.mktemp("scale")
    stack_dir, b_dir = tmp / "a", tmp / "b"
    stack_dir.mkdir()
    b_dir.mkdir()
    stack: Stack | None = None
    cluster: Cluster | None = None
    try:
        # Create the tracker store's table once, before two Rasa servers start on it at once.
        _create_tracker_table(urls["tracker"], secret_key)
        token = "scale-token-" + secrets.token_hex(12)
        started = time.monotonic()
        stack = start_stack(stack_dir, token=token, extra_env=shared)
        env_b = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "SIGNAL_", "RIPOSTE_API_TOKEN"))
        }
        env_b.update(shared)
        env_b.update(
            {
                # What docs/exploitation.md says to export on an extra server.
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{stack.actions_port}/webhook",
                "RIPOSTE_VAR_DIR": str(b_dir),
                "RASA_TELEMETRY_ENABLED": "false",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            }
        )
        cluster = Cluster(stack, free_port(), env_b, b_dir / "rasa.log", secret_key, urls["cases"])
        cluster.start_b()
        wait_ready(stack)
        cluster.timings["stack A ready"] = time.monotonic() - started
        cluster.wait_b()
        cluster.timings["both ready"] = time.monotonic() - started
        print(f"\nscale-out: {cluster.timings}")
        yield cluster
    finally:
        if cluster is not None:
            cluster.kill_b(signal.SIGTERM)
        if stack is not None:
            stack.stop()
        drop_databases()


def _create_tracker_table(url: str, secret_key: str) -> None:
    from riposte_rasa.tracker_store import EncryptedSQLTrackerStore

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    store = EncryptedSQLTrackerStore(host=url)
    store.engine.dispose()


def user_texts(tracker: dict[str, Any]) -> list[str]:
    return [event["text"] for event in tracker["events"] if event["event"] == "user"]


def turns_of(tracker: dict[str, Any]) -> list[tuple[str, str]]:
    """(user text, the bot's texts until the next user message) for each turn."""
    turns: list[tuple[str, list[str]]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif event["event"] == "bot" and turns and event.get("text"):
            turns[-1][1].append(event["text"].strip())
    return [(text, "\n\n".join(bot_texts)) for text, bot_texts in turns]


def reply_text(reply: list[dict[str, Any]]) -> str:
    """The texts of one HTTP reply, as the tracker holds them (Rasa's REST channel sends each
    paragraph of a text without buttons as a message of its own)."""
    return "\n\n".join(message["text"].strip() for message in reply if message.get("text"))


# --------------------------------------------------------------------------- 1. scale-out


def test_a_conversation_alternating_between_servers_keeps_its_slots_and_its_case(
    cluster: Cluster,
) -> None:
    sender = "alternating"
    sent: list[str] = []
    first = f"Depuis le 2 novembre le compte {HANDLE} me traite d'escroc sur X tous les jours"
    cluster.say(0, sender, first)
    sent.append(first)
    replies = cluster.say(1, sender, OPEN_CASE)
    sent.append(OPEN_CASE)
    found = CREATED.search(texts(replies))
    assert found, texts(replies)
    code, secret = found.groups()
    server = 1
    asked = []
    for _ in range(len(ANSWERS) + 1):
        slots = cluster.tracker(sender)["slots"]
        assert slots["case_code"] == code and slots["platforms"] == ["x"], slots
        requested = slots["requested_slot"]
        if requested is None:
            break
        asked.append((requested, server))
        cluster.say(server, sender, ANSWERS[requested][0])
        sent.append(ANSWERS[requested][0])
        server = 1 - server
    else:
        raise AssertionError(f"the triage does not end: {cluster.tracker(sender)['slots']}")
    assert {"author_relation", "practice"} <= {slot for slot, _ in asked}
    assert {1, 0} <= {server for _, server in asked}  # answered on both servers
    replies = cluster.say(server, sender, "mes délais")
    sent.append("mes délais")
    assert "pour agir" in texts(replies) or "jusqu'au" in texts(replies), texts(replies)

    tracker = cluster.tracker(sender)
    assert user_texts(tracker) == sent
    slots = tracker["slots"]
    assert slots["case_code"] == code
    assert slots["practice"] == "hospital" and slots["author_relation"] == "patient"
    with cluster.repository() as repo:
        case = repo.open_case(code, secret).to_dict()
    assert case["incident"]["platforms"] == ["x"]
    assert case["incident"]["author"]["relation"] == "patient"
    assert case["victim"]["practice"] == "hospital"


async def _post(
    session: aiohttp.ClientSession, port: int, sender: str, message: str
) -> list[dict[str, Any]]:
    async with session.post(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
    ) as response:
        assert response.status == 200, (response.status, await response.text())
        return await response.json()  # type: ignore[no-any-return]


def test_concurrent_conversations_over_both_servers_keep_every_event(cluster: Cluster) -> None:
    """CONVERSATIONS conversations at once, TURNS turns each, alternating between servers."""

    def message(conversation: int, turn: int) -> str:
        if turn == 0:
            return (
                f"Depuis le 3 novembre le compte @troll_{conversation} me traite d'escroc sur X "
                f"tous les jours [c{conversation}t0]"
            )
        if turn == 1:
            return OPEN_CASE  # the yes to the case file: its code comes back then
        return f"{SMALL_TALK[(conversation + turn) % len(SMALL_TALK)]} [c{conversation}t{turn}]"

    async def conversation(session: aiohttp.ClientSession, number: int) -> list[Any]:
        replies = []
        for turn in range(TURNS):
            port = cluster.ports[(number + turn) % 2]
            replies.append(await _post(session, port, f"load-{number}", message(number, turn)))
        return replies

    async def run() -> list[list[Any]]:
        timeout = aiohttp.ClientTimeout(total=300 * timeout_factor())
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            return await asyncio.gather(*(conversation(session, n) for n in range(CONVERSATIONS)))

    started = time.monotonic()
    all_replies = asyncio.run(run())
    seconds = time.monotonic() - started
    total = CONVERSATIONS * TURNS
    print(
        f"\nscale-out load: {CONVERSATIONS} conversations × {TURNS} turns = {total} turns "
        f"in {seconds:.1f} s ({total / seconds:.1f} turns/s)"
    )
    for number, replies in enumerate(all_replies):
        tracker = cluster.tracker(f"load-{number}")
        expected = [message(number, turn) for turn in range(TURNS)]
        # Every message once, in the order sent, nothing from another conversation…
        assert user_texts(tracker) == expected, number
        # …each answered once, its replies in place: what the HTTP reply of each turn
        # carried is what the tracker holds between this message and the next.
        recorded = [bot_text for _, bot_text in turns_of(tracker)]
        # (The passphrase shown once is masked in what is kept.)
        assert recorded == [mask_shown_passphrase(reply_text(r)) for r in replies], number
        assert all(recorded), number
        # The reply naming a case went to the conversation that owns it.
        found = CREATED.search(texts(replies[1]))
        assert found, texts(replies[1])
        assert tracker["slots"]["case_code"] == found.group(1)


# --------------------------------------------------------------------------- 2. one sender


def test_one_sender_twenty_messages_at_once_on_both_servers(cluster: Cluster) -> None:
    """20 messages of one sender sent together, alternately to A and B (100 ms apart).

    "In order" means: the 20 user events are the 20 messages, each exactly once; the turns
    never interleave (the bot's texts between two user events are exactly the texts of the
    HTTP reply to the first one: each message answered once, in place); and the messages one server
    accepted are processed in the order it accepted them (per server, increasing numbers;
    between servers, the order in which they won the lock).
    """
    sender = "burst"
    count = 20
    messages = [f"{SMALL_TALK[i % len(SMALL_TALK)]} [n{i:02d}]" for i in range(count)]

    async def send(session: aiohttp.ClientSession, index: int) -> list[dict[str, Any]]:
        # The sending schedule, not a wait: message n leaves n × 100 ms after the first.
        await asyncio.sleep(index * 0.1)
        return await _post(session, cluster.ports[index % 2], sender, messages[index])

    async def run() -> list[list[dict[str, Any]]]:
        timeout = aiohttp.ClientTimeout(total=300 * timeout_factor())
        async with aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
        ) as session:
            return await asyncio.gather(*(send(session, i) for i in range(count)))

    started = time.monotonic()
    replies = asyncio.run(run())
    print(
        f"\nscale-out burst: {count} messages of one sender in {time.monotonic() - started:.1f} s"
    )
    tracker = cluster.tracker(sender)
    turns = turns_of(tracker)
    received = [text for text, _ in turns]
    assert sorted(received) == sorted(messages), received  # all 20, each once
    by_text = dict(zip(messages, replies, strict=True))
    for text, bot_text in turns:
        assert bot_text == reply_text(by_text[text]) and bot_text, (text, bot_text)
    numbers = [int(text.rsplit("[n", 1)[1].rstrip("]")) for text in received]
    for server in (0, 1):
        mine = [n for n in numbers if n % 2 == server]
        assert mine == sorted(mine), (server, numbers)
    print(f"scale-out burst order: {numbers}")


# --------------------------------------------------------------------------- 3. kill -9


def test_a_server_killed_mid_conversation_then_restarted_continues_it(cluster: Cluster) -> None:
    sender = "survivor"
    first = f"Depuis le 2 novembre le compte {HANDLE} me traite d'escroc sur X tous les jours"
    cluster.say(1, sender, first)
    found = CREATED.search(texts(cluster.say(1, sender, OPEN_CASE)))
    assert found
    code, secret = found.groups()
    requested = cluster.tracker(sender)["slots"]["requested_slot"]
    assert requested in ANSWERS
    cluster.say(1, sender, ANSWERS[requested][0])

    cluster.kill_b(signal.SIGKILL)
    # Server A carries the conversation alone meanwhile.
    requested = cluster.tracker(sender)["slots"]["requested_slot"]
    if requested is not None:
        cluster.say(0, sender, ANSWERS[requested][0])
    restarted = time.monotonic()
    cluster.start_b()
    print(f"\nscale-out: server B restarted in {cluster.wait_b():.0f} s")
    cluster.timings["B restart"] = time.monotonic() - restarted

    for _ in range(len(ANSWERS)):
        requested = cluster.tracker(sender)["slots"]["requested_slot"]
        if requested is None:
            break
        cluster.say(1, sender, ANSWERS[requested][0])
    slots = cluster.tracker(sender)["slots"]
    assert slots["requested_slot"] is None and slots["case_code"] == code
    assert slots["practice"] == "hospital"
    replies = cluster.say(1, sender, "mes délais")
    assert code in texts(replies) or "jusqu'au" in texts(replies), texts(replies)
    with cluster.repository() as repo:
        case = repo.open_case(code, secret).to_dict()
    assert case["victim"]["practice"] == "hospital"
    assert len(user_texts(cluster.tracker(sender))) >= 4
