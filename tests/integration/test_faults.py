"""Faults in production: the action server or the conversations' database going away in the
middle of conversations, then coming back (issue #8, « Pannes »).

Started once for the module, as `riposte serve` starts them (same commands, same environment,
riposte/cli/serve.py) but as processes of the test so that one can be killed alone: the action
server, one Rasa server and the web page. The conversations (tracker store) and the cases are
in PostgreSQL; Rasa reaches the conversations' database through a TCP proxy of the test,
which can cut every connection and refuse new ones (the database unreachable, or restarting),
then come back on the same port, while the shared test PostgreSQL keeps serving other tests.

What must hold (riposte_rasa/patches.py, riposte_rasa/channels/rest.py, socketio.py):
- action server down: the message gets the French « momentanément indisponible » message
  (REST: 503), nothing of it is kept; sent again once the server is back, it is handled as it
  would have been, and the conversation goes on;
- database unreachable: the same (REST 503, socket.io `riposte_error`, the page puts the text
  back in the input); every message answered 200 before is in the conversation, in order;
  once the database is back, the first message goes through (no stale pooled connection).

Needs the PostgreSQL test server (`make test-integration` starts it and sets
RIPOSTE_TEST_POSTGRES_URL); fails, never skips, when RIPOSTE_REQUIRE_POSTGRES (or CI) is set
and it is missing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.ports import free_port, free_ports
from devtools.waiting import wait_until
from riposte.cli.serve import Child, wait_until_up
from riposte.services import actions_command, child_environment, rasa_command
from riposte.settings import NOT_PROCESSED_MESSAGE, Settings
from riposte.web.server import make_web_server
from tests.integration.conftest import MODEL, require_postgres_url
from tests.integration.test_case_file import ANSWERS, CREATED, HANDLE, OPEN_CASE, texts
from tests.integration.test_scale_out import turns_of, user_texts

FIRST = f"Depuis le 2 novembre le compte {HANDLE} me traite d'escroc sur X tous les jours"
ACTIONS_START_TIMEOUT = 120
RASA_START_TIMEOUT = 400


class TcpProxy:
    """127.0.0.1:`port` → `target`, in threads of the test. `cut()` closes every connection and
    stops listening (connections refused); `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> None:
        assert not self._listening.is_set()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listening.set()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._listening.clear()
        if self._thread is not None:
            self._thread.join()  # the listener is closed: new connections are refused
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                client.settimeout(None)
                with self._lock:
                    self._open.update((client, upstream))
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class Faulty:
    settings: Settings
    env: dict[str, str]
    actions: Child
    rasa: Child
    proxy: TcpProxy
    secret_key: str
    token: str

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "log"

    def start_actions(self) -> float:
        started = time.monotonic()
        self.actions.start(self.env, self.log_dir)
        url = f"http://127.0.0.1:{self.settings.actions_port}/health"
        if not wait_until_up(url, ACTIONS_START_TIMEOUT, self.actions.alive):
            pytest.fail(f"action server not up:\n{self.log('actions')[-4000:]}")
        return time.monotonic() - started

    def kill_actions(self) -> None:
        process = self.actions.process
        assert process is not None and process.poll() is None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def post(self, sender: str, message: str) -> tuple[int, list[dict[str, Any]]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.settings.rasa_port}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        status, replies = self.post(sender, message)
        assert status == 200, (status, replies)
        return replies

    def pseudonym(self, sender: str, channel: str = "rest") -> str:
        from riposte.privacy import load_master_key, pseudonymise
        from riposte.store.config import StoreConfig

        config = StoreConfig.from_env(
            {"RIPOSTE_VAR_DIR": str(self.settings.var_dir), "RIPOSTE_SECRET_KEY": self.secret_key}
        )
        return pseudonymise(channel, sender, load_master_key(config, create=False))

    def tracker(self, sender: str, channel: str = "rest") -> dict[str, Any]:
        url = (
            f"http://127.0.0.1:{self.settings.rasa_port}/conversations/"
            f"{self.pseudonym(sender, channel)}/tracker?token={self.token}"
        )
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def repository(self) -> Any:
        from riposte.store.config import StoreConfig
        from riposte.store.repository import CaseRepository

        return CaseRepository(StoreConfig.from_env(self.env))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    postgres_url = require_postgres_url("Fault tests")
    if not MODEL.is_file():
        pytest.fail(f"Trained model missing ({MODEL}): run `make test`, which trains it first.")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", future=True)
    suffix = secrets.token_hex(5)
    names = {
        "tracker": f"riposte_faults_{suffix}_tracker",
        "cases": f"riposte_faults_{suffix}_cases",
    }
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server = make_url(postgres_url)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    proxy.restore()
    tracker_url = server.set(host="127.0.0.1", port=proxy.port, database=names["tracker"])
    cases_url = server.set(database=names["cases"])
    tmp = tmp_path_factory.mktemp("faults")
    secret_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    token = "faults-token-" + secrets.token_hex(12)
    ports = free_ports(3)
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SIGNAL_", "RIPOSTE_", "REDIS_URL"))
    }
    base.update(
        {
            "RIPOSTE_RASA_PORT": str(ports[0]),
            "RIPOSTE_ACTIONS_PORT": str(ports[1]),
            "RIPOSTE_WEB_PORT": str(ports[2]),
            "RIPOSTE_VAR_DIR": str(tmp),
            "RIPOSTE_API_TOKEN": token,
            "RIPOSTE_SECRET_KEY": secret_key,
            "TRACKER_STORE_URL": tracker_url.render_as_string(hide_password=False),
            "RIPOSTE_DATABASE_URL": cases_url.render_as_string(hide_password=False),
            "RIPOSTE_MODEL": str(MODEL),
        }
    )
    settings = Settings.from_env(base)
    env = child_environment(settings, base)
    shared = {"RIPOSTE_ACTION_SECRET": secrets.token_urlsafe(32)}  # as `riposte serve` does
    faulty = Faulty(
        settings,
        env,
        Child("actions", actions_command(settings), None, ACTIONS_START_TIMEOUT, extra_env=shared),
        Child(
            "rasa",
            rasa_command(settings),
            None,
            RASA_START_TIMEOUT,
            # The API token reaches Rasa by its environment only (riposte_rasa.server).
            extra_env={**shared, "RIPOSTE_API_TOKEN": token},
        ),
        proxy,
        secret_key,
        token,
    )
    web = None
    try:
        with faulty.repository() as repo:  # what `riposte serve` does before starting
            repo.ensure_ready()
        started = time.monotonic()
        faulty.rasa.start(env, faulty.log_dir)
        faulty.start_actions()
        rasa_up = wait_until_up(
            f"http://127.0.0.1:{settings.rasa_port}/", RASA_START_TIMEOUT, faulty.rasa.alive
        )
        if not rasa_up:
            pytest.fail(f"Rasa server not up:\n{faulty.log('rasa')[-4000:]}")
        print(f"\nfaults: stack ready in {time.monotonic() - started:.0f} s")
        web = make_web_server(settings)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        yield faulty
    finally:
        if web is not None:
            web.shutdown()
            web.server_close()
        faulty.rasa.stop()
        faulty.actions.stop()
        proxy.cut()
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def bot(faulty: Faulty) -> Iterator[Faulty]:
    """The stack, as healthy after each test as before (should a test fail half-way)."""
    yield faulty
    if not faulty.proxy._listening.is_set():
        faulty.proxy.restore()
    if not faulty.actions.alive():
        faulty.start_actions()


def unavailable(status: int, replies: list[dict[str, Any]]) -> bool:
    return status == 503 and [r.get("text") for r in replies] == [NOT_PROCESSED_MESSAGE]


def start_triage(bot: Faulty, sender: str) -> tuple[list[str], str, str]:
    """The first message, the yes to a case file (opened then) and one answer: the messages
    sent, the case."""
    bot.say(sender, FIRST)
    found = CREATED.search(texts(bot.say(sender, OPEN_CASE)))
    assert found
    requested = bot.tracker(sender)["slots"]["requested_slot"]
    assert requested in ANSWERS, requested
    bot.say(sender, ANSWERS[requested][0])
    return [FIRST, OPEN_CASE, ANSWERS[requested][0]], found.group(1), found.group(2)


def finish_triage(bot: Faulty, sender: str, sent: list[str]) -> dict[str, Any]:
    for _ in range(len(ANSWERS) + 1):
        requested = bot.tracker(sender)["slots"]["requested_slot"]
        if requested is None:
            return bot.tracker(sender)["slots"]  # type: ignore[no-any-return]
        bot.say(sender, ANSWERS[requested][0])
        sent.append(ANSWERS[requested][0])
    raise AssertionError(f"the triage does not end: {bot.tracker(sender)['slots']}")


# --------------------------------------------------------------------------- action server


def test_the_action_server_down_mid_conversation_then_back(bot: Faulty) -> None:
    sender = "actions-down"
    sent, code, secret = start_triage(bot, sender)
    before = bot.tracker(sender)
    requested = before["slots"]["requested_slot"]
    assert requested in ANSWERS, before["slots"]
    answer, value = ANSWERS[requested]

    bot.kill_actions()
    started = time.monotonic()
    status, replies = bot.post(sender, answer)
    assert unavailable(status, replies), (status, replies)
    assert time.monotonic() - started < 30
    after = bot.tracker(sender)
    assert after["events"] == before["events"]  # nothing of that message, no half turn
    assert after["slots"] == before["slots"]
    assert "action server unavailable" in bot.log("rasa")
    assert answer not in bot.log("rasa")  # the message's text is never logged

    print(f"\nfaults: action server restarted in {bot.start_actions():.0f} s")
    assert bot.settings.actions_port == int(bot.env["RIPOSTE_ACTIONS_PORT"])  # same port
    bot.say(sender, answer)  # the same message again
    sent.append(answer)
    resumed = bot.tracker(sender)
    assert resumed["slots"][requested] == value
    assert resumed["slots"]["requested_slot"] != requested
    assert resumed["events"][: len(before["events"])] == before["events"]
    assert user_texts(resumed) == sent  # each message once, in order
    # The turn is the one the message would have had: the bot asked the next question.
    assert turns_of(resumed)[-1][1], turns_of(resumed)

    slots = finish_triage(bot, sender, sent)
    assert slots["case_code"] == code and slots["practice"] == "hospital"
    assert user_texts(bot.tracker(sender)) == sent
    with bot.repository() as repo:
        case = repo.open_case(code, secret).to_dict()
    assert case["victim"]["practice"] == "hospital"
    assert case["incident"]["author"]["relation"] == "patient"


# --------------------------------------------------------------------------- database


def test_a_database_restart_between_two_messages_goes_unnoticed(bot: Faulty) -> None:
    """Every pooled connection is closed by the database (a restart) while nobody writes: the
    next message must not fail on one of them (pool_pre_ping)."""
    sender = "db-restart"
    bot.say(sender, "bonjour")
    bot.proxy.cut()
    bot.proxy.restore()
    status, replies = bot.post(sender, "merci")
    assert status == 200 and texts(replies), (status, replies)
    assert user_texts(bot.tracker(sender)) == ["bonjour", "merci"]


def test_the_database_unreachable_then_back(bot: Faulty) -> None:
    sender = "db-down"
    sent, code, _ = start_triage(bot, sender)
    before = bot.tracker(sender)
    requested = before["slots"]["requested_slot"]
    assert requested in ANSWERS, before["slots"]
    answer, value = ANSWERS[requested]

    bot.proxy.cut()
    try:
        for _ in range(2):  # not once by chance
            started = time.monotonic()
            status, replies = bot.post(sender, answer)
            assert unavailable(status, replies), (status, replies)
            assert time.monotonic() - started < 30
        status, replies = bot.post("db-down-newcomer", "bonjour")
        assert unavailable(status, replies), (status, replies)  # not a fresh conversation
        assert streamed(bot, sender, answer)[-1] == {"text": NOT_PROCESSED_MESSAGE}
        assert socketio_error(bot) == {"code": "unavailable", "text": NOT_PROCESSED_MESSAGE}
        assert bot.rasa.alive()
    finally:
        bot.proxy.restore()
    assert "tracker store unavailable" in bot.log("rasa")
    assert answer not in bot.log("rasa")

    after = bot.tracker(sender)
    assert after["events"] == before["events"]  # every message answered 200, nothing else
    assert user_texts(after) == sent
    bot.say(sender, answer)
    sent.append(answer)
    resumed = bot.tracker(sender)
    assert user_texts(resumed) == sent
    assert resumed["events"][: len(before["events"])] == before["events"]
    assert resumed["slots"]["case_code"] == code
    assert resumed["slots"][requested] == value
    assert user_texts(bot.tracker("db-down-newcomer")) == []


def streamed(bot: Faulty, sender: str, message: str) -> list[dict[str, Any]]:
    """The REST channel's streaming mode: one JSON reply per line."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{bot.settings.rasa_port}/webhooks/rest/webhook?stream=true",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        lines = response.read().decode().splitlines()
    return [
        {key: value for key, value in json.loads(line).items() if key != "recipient_id"}
        for line in lines
        if line.strip()
    ]


def socketio_error(bot: Faulty) -> Any:
    """A message sent over socket.io, as the page does: what comes back."""
    import socketio

    async def chat() -> Any:
        client = socketio.AsyncClient(reconnection=False)
        received: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("session_confirm", "bot_uttered", "riposte_error"):
            client.on(name, lambda data, name=name: received.put_nowait((name, data)))
        origin = f"http://127.0.0.1:{bot.settings.web_port}"
        await client.connect(
            f"http://127.0.0.1:{bot.settings.rasa_port}",
            socketio_path="/socket.io",
            headers={"Origin": origin},
        )
        try:
            session = secrets.token_urlsafe(32)
            await client.emit("session_request", {"session_id": session})
            assert (await asyncio.wait_for(received.get(), 30))[0] == "session_confirm"
            await client.emit("user_uttered", {"message": "bonjour", "session_id": session})
            name, data = await asyncio.wait_for(received.get(), 60)
            assert name == "riposte_error", (name, data)
            return data
        finally:
            await client.disconnect()

    return asyncio.run(chat())


# --------------------------------------------------------------------------- the web page


def test_the_page_gives_back_what_was_typed_when_a_message_is_not_taken(bot: Faulty) -> None:
    """The action server down, then the database: each time the page shows the French message
    and puts the text back in the input; sent again once the service is back, it goes through."""
    from playwright.sync_api import sync_playwright

    from tests.integration.conftest import CHROMIUM_ARGS, chromium_path
    from tests.integration.test_webchat import WAIT_MS

    faults = [
        (
            "Il a encore publié mon adresse ce matin sur Facebook",
            bot.kill_actions,
            bot.start_actions,
        ),
        ("C'est un ancien patient", bot.proxy.cut, bot.proxy.restore),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            page.goto(f"http://127.0.0.1:{bot.settings.web_port}/")
            page.locator(".entry.bot").first.wait_for(timeout=WAIT_MS)
            box = page.get_by_role("textbox", name="Votre message")
            alert = page.get_by_role("alert")
            for text, fault, repair in faults:
                fault()
                try:
                    box.fill(text)
                    box.press("Enter")
                    alert.get_by_text("momentanément indisponible").wait_for(timeout=WAIT_MS)
                    assert alert.inner_text() == NOT_PROCESSED_MESSAGE
                    assert box.input_value() == text  # nothing lost
                finally:
                    repair()
                before = page.locator(".entry.bot").count()
                box.press("Enter")
                page.wait_for_function(  # the bot's answer is shown
                    "n => document.querySelectorAll('.entry.bot').length > n",
                    arg=before,
                    timeout=WAIT_MS,
                )
                assert box.input_value() == "" and alert.inner_text() == ""
                session = page.evaluate("JSON.parse(sessionStorage.getItem('riposte.session'))")
                saved(bot, session, text)  # the turn is over before the next fault
        finally:
            browser.close()
    assert user_texts(bot.tracker(session, channel="socketio")) == ["/greet"] + [
        text for text, _, _ in faults
    ]


def saved(bot: Faulty, session: str, text: str, timeout: float = 60) -> None:
    wait_until(
        lambda: text in user_texts(bot.tracker(session, channel="socketio")),
        f"{text!r} saved in the conversation",
        timeout=timeout,
        interval=0.5,
    )
