"""Signal: the channel (Sanic on loopback, Rasa's `register()`) and the bridge, against a fake
signal-cli-rest-api on loopback; the settings and what `riposte serve` starts.

The channel is mounted the way `rasa run` does it, with a fake agent that records the messages
and answers through the output channel like Rasa's processor (`send_response`). The bridge runs
as a task against the fake API and a fake Rasa webhook (aiohttp).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from devtools.ports import free_port
from devtools.waiting import wait_until_async
from riposte.cli.signal_bridge import Bridge
from riposte.privacy import MasterKey, decode_key, generate_key_text, pseudonymise
from riposte.settings import NOT_PROCESSED_MESSAGE, Settings, SettingsError
from riposte.signal_config import TOKEN_HEADER, BridgeConfig
from riposte_rasa.channels.evidence_files import (
    MAX_BYTES,
    NOT_RECEIVED,
    TOO_LARGE,
    WRONG_TYPE,
    reply,
)
from riposte_rasa.channels.signal import Attachment, SignalInput, parse_envelope
from tests.channels.fake_signal_api import BOT_NUMBER, FakeSignalAPI
from tests.channels.inbox import PNG, TEXT, file_in_new_case, inbox_count, reference
from tests.channels.sanic_app import start_served
from tests.channels.sanic_app import stop_served as shutdown

BRIDGE_TOKEN = "bridge-token_0123456789abcdef"
SENDER_UUID = "3f6a1c2e-8b7d-4e5f-9a0b-1c2d3e4f5a6b"
SENDER_NUMBER = "+33611111111"
GREETING = "Bonjour, je suis Riposte. Que se passe-t-il ?"
BUTTONS = [
    {"title": "Un avis en ligne", "payload": '/inform{"choice": "platforms=google_reviews"}'},
    {"title": "Un message privé", "payload": "/inform_private"},
]


def envelope(
    text: str | None = "bonjour",
    sender_uuid: str | None = SENDER_UUID,
    group: bool = False,
    timestamp: int = 1700000000000,
) -> dict[str, Any]:
    """A message as signal-cli-rest-api gives it (websocket frame or item of /v1/receive)."""
    env: dict[str, Any] = {
        "source": SENDER_NUMBER,
        "sourceNumber": SENDER_NUMBER,
        "sourceName": "Claire",
        "sourceDevice": 1,
        "timestamp": timestamp,
    }
    if sender_uuid is not None:
        env["sourceUuid"] = sender_uuid
    if text is not None:
        data: dict[str, Any] = {"timestamp": timestamp, "message": text, "expiresInSeconds": 0}
        if group:
            data["groupInfo"] = {"groupId": "Z3JvdXAtaWQtYmFzZTY0", "type": "DELIVER"}
        env["dataMessage"] = data
    return {"envelope": env, "account": BOT_NUMBER}


def with_attachment(
    attachment_id: str,
    content: bytes,
    text: str = "",
    filename: str | None = "capture.png",
    content_type: str = "image/png",
    size: int | None = None,
) -> dict[str, Any]:
    """An envelope with one attachment, as signal-cli-rest-api lists it (the content apart)."""
    message = envelope(text)
    item: dict[str, Any] = {
        "contentType": content_type,
        "id": attachment_id,
        "size": len(content) if size is None else size,
    }
    if filename is not None:
        item["filename"] = filename
    message["envelope"]["dataMessage"]["attachments"] = [item]
    return message


def receipt() -> dict[str, Any]:
    message = envelope(text=None)
    message["envelope"]["receiptMessage"] = {
        "when": 1700000000500,
        "isDelivery": True,
        "isRead": False,
        "timestamps": [1700000000000],
    }
    return message


def typing() -> dict[str, Any]:
    message = envelope(text=None)
    message["envelope"]["typingMessage"] = {"action": "STARTED", "timestamp": 1700000000100}
    return message


# --- the channel ------------------------------------------------------------------------------


@dataclass
class FakeAgent:
    """Stands for Rasa's agent: records each message and answers with `reply`."""

    received: list[UserMessage] = field(default_factory=list)
    reply: dict[str, Any] = field(
        default_factory=lambda: {"text": GREETING, "buttons": [dict(b) for b in BUTTONS]}
    )

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, dict(self.reply))


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps start in one process (Sanic 21.12 rewrites its code on start-up)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_store: None) -> MasterKey:
    text = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", text)
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path))
    return MasterKey(decode_key(text) or b"")


@dataclass
class Harness:
    api: FakeSignalAPI
    channel: SignalInput
    agent: FakeAgent
    webhook: str
    http: aiohttp.ClientSession

    async def post(self, body: Any, token: str | None = BRIDGE_TOKEN) -> int:
        headers = {TOKEN_HEADER: token} if token is not None else {}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        async with self.http.post(self.webhook, data=data, headers=headers) as answer:
            return answer.status


async def serve_channel(channel: SignalInput, agent: FakeAgent) -> tuple[Any, str]:
    server, base = await start_served(channel, "signal_test", agent)
    return server, f"{base}/webhooks/signal/webhook"


async def make_harness(allow_groups: bool = False) -> tuple[Harness, Any]:
    api = FakeSignalAPI()
    await api.start()
    credentials = {"number": BOT_NUMBER, "api_url": api.url, "bridge_token": BRIDGE_TOKEN}
    if allow_groups:
        credentials["allow_groups"] = True
    channel = SignalInput.from_credentials(credentials)
    assert isinstance(channel, SignalInput)
    agent = FakeAgent()
    server, webhook = await serve_channel(channel, agent)
    return Harness(api, channel, agent, webhook, aiohttp.ClientSession()), server


@pytest.fixture
async def harness(key: MasterKey) -> AsyncIterator[Harness]:
    h, server = await make_harness()
    yield h
    await h.http.close()
    await shutdown(server)
    await h.api.stop()


async def test_a_genuine_envelope_is_answered_to_the_sender_with_numbered_choices(
    harness: Harness, key: MasterKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await harness.post(envelope("on m'insulte sur Google")) == 200

    (message,) = harness.agent.received
    assert message.text == "on m'insulte sur Google"
    assert message.sender_id == pseudonymise("signal", SENDER_UUID, key)
    assert SENDER_UUID not in message.sender_id and SENDER_NUMBER not in message.sender_id
    assert message.input_channel == "signal"

    (sent,) = harness.api.sent
    assert sent == {
        "number": BOT_NUMBER,
        "recipients": [SENDER_UUID],
        "message": GREETING + "\n\n1. Un avis en ligne\n2. Un message privé",
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SENDER_NUMBER not in logged and SENDER_UUID not in logged
    assert "insulte" not in logged and BRIDGE_TOKEN not in logged


async def test_a_number_chooses_a_button_of_the_last_reply(
    harness: Harness, key: MasterKey
) -> None:
    assert await harness.post(envelope("bonjour")) == 200
    assert await harness.post(envelope("2")) == 200
    assert [m.text for m in harness.agent.received] == ["bonjour", "/inform_private"]
    assert await harness.post(envelope(" 1. ")) == 200
    assert harness.agent.received[-1].text == BUTTONS[0]["payload"]

    harness.agent.reply = {"text": "Combien de messages ?"}  # no buttons this time
    assert await harness.post(envelope("3")) == 200  # 3 choices offered: not a choice
    assert harness.agent.received[-1].text == "3"
    assert await harness.post(envelope("1")) == 200  # the last reply had no buttons
    assert harness.agent.received[-1].text == "1"
    assert all(
        m.sender_id == pseudonymise("signal", SENDER_UUID, key) for m in harness.agent.received
    )


async def test_choices_are_kept_per_sender(harness: Harness) -> None:
    other = "9d8c7b6a-5f4e-4d3c-8b2a-0f1e2d3c4b5a"
    assert await harness.post(envelope("bonjour")) == 200  # buttons for SENDER_UUID only
    assert await harness.post(envelope("2", sender_uuid=other)) == 200
    assert harness.agent.received[-1].text == "2"
    assert harness.api.sent[-1]["recipients"] == [other]


async def test_without_uuid_the_number_is_the_key_and_the_recipient(
    harness: Harness, key: MasterKey
) -> None:
    assert await harness.post(envelope("bonjour", sender_uuid=None)) == 200
    assert harness.agent.received[0].sender_id == pseudonymise("signal", SENDER_NUMBER, key)
    assert harness.api.sent[0]["recipients"] == [SENDER_NUMBER]


@pytest.mark.parametrize("token", [None, "", "wrong", BRIDGE_TOKEN + "x", BRIDGE_TOKEN[:-1]])
async def test_a_forged_envelope_is_refused_and_nothing_is_sent(
    harness: Harness, token: str | None
) -> None:
    assert await harness.post(envelope("bonjour"), token=token) == 403
    assert harness.agent.received == [] and harness.api.sent == []


async def test_group_messages_receipts_and_typing_are_ignored(harness: Harness) -> None:
    for body in (envelope("bonjour", group=True), receipt(), typing(), envelope("   ")):
        assert await harness.post(body) == 200
    assert harness.agent.received == [] and harness.api.sent == []


async def test_group_messages_are_answered_privately_when_allowed(key: MasterKey) -> None:
    h, server = await make_harness(allow_groups=True)
    try:
        assert await h.post(envelope("bonjour", group=True)) == 200
        assert [m.text for m in h.agent.received] == ["bonjour"]
        assert h.api.sent[0]["recipients"] == [SENDER_UUID]
    finally:
        await h.http.close()
        await shutdown(server)
        await h.api.stop()


@pytest.mark.parametrize(
    "body",
    ["pas du json {", "[1, 2]", '{"account": "+33700000001"}', '{"envelope": "x"}', ""],
)
async def test_a_malformed_body_is_refused_with_400_and_not_logged(
    harness: Harness, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await harness.post(body) == 400
    assert harness.agent.received == [] and harness.api.sent == []
    assert "pas du json" not in "\n".join(r.getMessage() for r in caplog.records)


async def test_a_message_without_any_sender_is_refused(harness: Harness) -> None:
    body = envelope("bonjour", sender_uuid=None)
    del body["envelope"]["source"], body["envelope"]["sourceNumber"]
    assert await harness.post(body) == 400
    assert harness.agent.received == []


async def test_documents_are_sent_as_base64_attachments(harness: Harness) -> None:
    pdf = b"%PDF-1.4 courrier"
    data = base64.b64encode(pdf).decode()
    harness.agent.reply = {
        "custom": {
            "document": {
                "filename": "plainte.pdf",
                "data_base64": data,
                "media_type": "application/pdf",
            },
            "caption": "Votre courrier",
        }
    }
    assert await harness.post(envelope("mon courrier")) == 200
    (sent,) = harness.api.sent
    assert sent == {
        "number": BOT_NUMBER,
        "recipients": [SENDER_UUID],
        "message": "Votre courrier",
        "base64_attachments": [f"data:application/pdf;filename=plainte.pdf;base64,{data}"],
    }
    harness.agent.reply = {"custom": {"document": {"filename": "x.pdf", "data_base64": "@@"}}}
    assert await harness.post(envelope("encore")) == 200
    assert len(harness.api.sent) == 1  # invalid base64: nothing sent


async def test_an_attachment_is_sealed_in_the_inbox_then_deleted_from_the_api(
    harness: Harness, key: MasterKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.api.attachments["Pq3xR9tZ.png"] = PNG
    body = with_attachment("Pq3xR9tZ.png", PNG, text="Avis du 12/11, @troll_quixotique")
    assert await harness.post(body) == 200

    (message,) = harness.agent.received
    pseudonym = pseudonymise("signal", SENDER_UUID, key)
    assert message.sender_id == pseudonym and message.input_channel == "signal"
    ref = reference(message.text or "")
    assert harness.api.downloaded == ["Pq3xR9tZ.png"]
    assert harness.api.deleted == ["Pq3xR9tZ.png"] and harness.api.attachments == {}
    assert inbox_count() == 1
    record, content = file_in_new_case(ref, pseudonym)
    assert content == PNG
    assert record.item.excerpt == "Avis du 12/11, @troll_quixotique"  # the text is the caption
    assert record.item.file is not None and record.item.file.startswith("signal-")
    assert record.item.file.endswith("-capture.png")
    assert [s["message"] for s in harness.api.sent] == [
        GREETING + "\n\n1. Un avis en ligne\n2. Un message privé"
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "troll" not in logged and "capture" not in logged and SENDER_UUID not in logged


async def test_an_attachment_of_another_type_is_refused_and_deleted(harness: Harness) -> None:
    harness.api.attachments["a1"] = TEXT
    assert await harness.post(with_attachment("a1", TEXT, content_type="image/png")) == 200
    assert harness.agent.received == []
    assert inbox_count() == 0
    (sent,) = harness.api.sent
    assert sent["recipients"] == [SENDER_UUID] and sent["message"] == reply(WRONG_TYPE)
    assert harness.api.deleted == ["a1"]


async def test_an_attachment_over_10_mb_is_refused(harness: Harness) -> None:
    big = PNG + b"x" * MAX_BYTES
    harness.api.attachments["big"] = big
    assert await harness.post(with_attachment("big", big)) == 200
    assert harness.api.downloaded == []  # the announced size is enough
    harness.api.attachments["big2"] = big
    assert await harness.post(with_attachment("big2", big, size=1000)) == 200
    assert harness.api.downloaded == ["big2"]  # announced wrongly: cut while downloading
    assert harness.agent.received == [] and inbox_count() == 0
    assert [s["message"] for s in harness.api.sent] == [reply(TOO_LARGE)] * 2
    assert harness.api.deleted == ["big", "big2"]


async def test_an_attachment_that_cannot_be_fetched_gets_a_reply(harness: Harness) -> None:
    assert await harness.post(with_attachment("missing", PNG)) == 200
    assert harness.agent.received == []
    assert [s["message"] for s in harness.api.sent] == [reply(NOT_RECEIVED)]


def test_parse_envelope_reads_the_attachments() -> None:
    body = with_attachment("id-1", PNG)
    body["envelope"]["dataMessage"]["attachments"].append({"contentType": "image/jpeg"})
    incoming = parse_envelope(body)
    assert incoming is not None
    assert incoming.text == ""
    assert incoming.attachments == (Attachment("id-1", "image/png", "capture.png", len(PNG)),)
    no_id = envelope("")
    no_id["envelope"]["dataMessage"]["attachments"] = [{"contentType": "image/png"}]
    assert parse_envelope(no_id) is None


async def test_a_failing_agent_still_answers_200(harness: Harness) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("boom")

    harness.agent.handle_message = broken  # type: ignore[method-assign]
    assert await harness.post(envelope("bonjour")) == 200


def test_credentials_need_the_number_and_the_token() -> None:
    from rasa.shared.exceptions import RasaException

    with pytest.raises(RasaException):
        SignalInput.from_credentials({"number": BOT_NUMBER})
    with pytest.raises(RasaException):
        SignalInput.from_credentials({"bridge_token": BRIDGE_TOKEN})


# --- the bridge -------------------------------------------------------------------------------


class FakeRasa:
    """Rasa's Signal webhook: records the token and the envelope of each post."""

    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[tuple[str | None, Any]] = []
        self.fail_first = fail_first
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> int:
        app = web.Application()
        app.router.add_post("/webhooks/signal/webhook", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        self.posts.append((request.headers.get(TOKEN_HEADER), await request.json()))
        return web.Response(text="success")

    def texts(self) -> list[str]:
        return [body["envelope"]["dataMessage"]["message"] for _, body in self.posts]


def bridge_config(api: FakeSignalAPI, rasa_port: int, mode: str = "json-rpc") -> BridgeConfig:
    return BridgeConfig(
        api_url=api.url,
        number=BOT_NUMBER,
        rasa_webhook=f"http://127.0.0.1:{rasa_port}/webhooks/signal/webhook",
        token=BRIDGE_TOKEN,
        mode=mode,
        poll_interval=0.05,
        first_delay=0.05,
        max_delay=0.2,
        forward_attempts=60,
    )


@contextlib.asynccontextmanager
async def running(bridge: Bridge) -> AsyncIterator[asyncio.Future[None]]:
    task = asyncio.ensure_future(bridge.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def api() -> AsyncIterator[FakeSignalAPI]:
    fake = FakeSignalAPI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[FakeRasa, int]]:
    fake = FakeRasa()
    port = await fake.start()
    yield fake, port
    await fake.stop()


async def test_bridge_json_rpc_forwards_with_the_token_and_reconnects(
    api: FakeSignalAPI, rasa: tuple[FakeRasa, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_rasa, port = rasa
    async with running(Bridge(bridge_config(api, port))) as task:
        await api.wait_connections(1)
        api.push(envelope("premier"))
        await wait_until_async(lambda: len(fake_rasa.posts) == 1, "1 envelope(s) posted to Rasa")
        token, body = fake_rasa.posts[0]
        assert token == BRIDGE_TOKEN and body == envelope("premier")

        await api.drop()  # signal-cli-rest-api restarts: the bridge connects again
        await api.wait_connections(2)
        api.push(envelope("deuxième"))
        await wait_until_async(lambda: len(fake_rasa.posts) == 2, "2 envelope(s) posted to Rasa")

        api.push("pas du json {")
        api.push(json.dumps({"pas": "une enveloppe"}))
        api.push(envelope("troisième"))
        await wait_until_async(lambda: len(fake_rasa.posts) == 3, "3 envelope(s) posted to Rasa")
        assert fake_rasa.texts() == ["premier", "deuxième", "troisième"]
        assert not task.done()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "malformed frame" in logged
    assert "pas du json" not in logged and SENDER_NUMBER not in logged and "premier" not in logged


def logged_count(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def test_bridge_connects_once_the_api_is_up(
    rasa: tuple[FakeRasa, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="riposte.cli.signal_bridge")
    fake_rasa, port = rasa
    api = FakeSignalAPI()
    api_port = free_port()
    config = BridgeConfig(
        **{**bridge_config(api, port).__dict__, "api_url": f"http://127.0.0.1:{api_port}"}
    )
    async with running(Bridge(config)):
        await wait_until_async(  # a few failed attempts meanwhile
            lambda: logged_count(caplog, "reconnecting") >= 2, "2 failed connections logged"
        )
        app_runner = None
        try:
            api.url = ""
            app = web.Application()
            app.router.add_get("/v1/receive/{number}", api._receive)
            app_runner = web.AppRunner(app, access_log=None)
            await app_runner.setup()
            await web.TCPSite(app_runner, "127.0.0.1", api_port).start()
            await api.wait_connections(1)
            api.push(envelope("enfin"))
            await wait_until_async(
                lambda: fake_rasa.texts() == ["enfin"], "« enfin » posted to Rasa"
            )
        finally:
            await api.drop()
            if app_runner is not None:
                await app_runner.cleanup()


async def test_bridge_retries_until_rasa_is_up_and_loses_nothing(
    api: FakeSignalAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="riposte.cli.signal_bridge")
    port = free_port()  # Rasa is not listening yet
    fake_rasa = FakeRasa(fail_first=2)  # then answers 503 twice while loading
    async with running(Bridge(bridge_config(api, port))):
        await api.wait_connections(1)
        api.push(envelope("avant Rasa"))
        api.push(envelope("après"))
        await wait_until_async(  # Rasa is down: the first envelope is being retried
            lambda: logged_count(caplog, "Rasa unreachable") >= 2, "2 failed posts logged"
        )
        await fake_rasa.start(port)
        try:
            await wait_until_async(
                lambda: len(fake_rasa.posts) == 2, "2 envelope(s) posted to Rasa"
            )
            assert fake_rasa.texts() == ["avant Rasa", "après"]
        finally:
            await fake_rasa.stop()


async def test_bridge_normal_mode_forwards_each_polled_envelope_once(
    api: FakeSignalAPI, rasa: tuple[FakeRasa, int]
) -> None:
    fake_rasa, port = rasa
    api.pending = [envelope("un", timestamp=1), receipt(), envelope("deux", timestamp=2)]
    async with running(Bridge(bridge_config(api, port, mode="normal"))):
        await wait_until_async(lambda: len(fake_rasa.posts) == 3, "3 envelope(s) posted to Rasa")
        api.pending = ["pas une enveloppe", envelope("trois", timestamp=3)]
        await wait_until_async(lambda: len(fake_rasa.posts) == 4, "4 envelope(s) posted to Rasa")
        polls = api.polls
        await wait_until_async(lambda: api.polls >= polls + 3, "3 more polls")  # it keeps polling
    assert api.connections == 0  # no websocket in normal mode
    # Envelopes are forwarded as they are (a receipt too: the channel ignores it).
    texts = [b["envelope"].get("dataMessage", {}).get("message") for _, b in fake_rasa.posts]
    assert texts == ["un", None, "deux", "trois"]
    assert all(token == BRIDGE_TOKEN for token, _ in fake_rasa.posts)


async def test_bridge_to_channel_end_to_end(api: FakeSignalAPI, key: MasterKey) -> None:
    """The real pair: bridge → Rasa's Signal channel → /v2/send on the same fake API."""
    channel = SignalInput(BOT_NUMBER, BRIDGE_TOKEN, api_url=api.url)
    agent = FakeAgent()
    server, webhook = await serve_channel(channel, agent)
    port = int(webhook.split(":")[2].split("/")[0])
    try:
        async with running(Bridge(bridge_config(api, port))):
            await api.wait_connections(1)
            api.push(envelope("bonjour"))
            await api.wait_sent(1)
            api.push(envelope("2"))
            await api.wait_sent(2)
        assert [m.text for m in agent.received] == ["bonjour", "/inform_private"]
        assert all(s["recipients"] == [SENDER_UUID] for s in api.sent)
    finally:
        await shutdown(server)


# --- settings and `riposte serve` ---------------------------------------------------------------

SIGNAL_ENV = {"SIGNAL_NUMBER": "+33700000001"}


def test_signal_settings_defaults_and_values() -> None:
    assert Settings.from_env({}).signal is None
    s = Settings.from_env(SIGNAL_ENV).signal
    assert s is not None
    assert (s.number, s.api_url, s.mode) == ("+33700000001", "http://127.0.0.1:8081", "json-rpc")
    assert "+33700000001" not in repr(s) and "+33700000001" not in repr(
        Settings.from_env(SIGNAL_ENV)
    )
    s = Settings.from_env(
        {
            "SIGNAL_NUMBER": " +33 7 00 00 00 01 ",
            "SIGNAL_API_URL": "https://signal.lan/",
            "SIGNAL_MODE": "Normal",
        }
    ).signal
    assert s is not None and (s.number, s.api_url, s.mode) == (
        "+33700000001",
        "https://signal.lan",
        "normal",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SIGNAL_NUMBER": "0612345678"}, "SIGNAL_NUMBER doit être le numéro du bot"),
        ({"SIGNAL_NUMBER": "+0612345678"}, "format international E.164"),
        ({"SIGNAL_NUMBER": "+33abc"}, "SIGNAL_NUMBER doit être"),
        ({"SIGNAL_API_URL": "127.0.0.1:8081"}, "SIGNAL_API_URL doit commencer par http://"),
        ({"SIGNAL_API_URL": "ws://127.0.0.1:8081"}, "SIGNAL_API_URL doit commencer"),
        ({"SIGNAL_MODE": "websocket"}, "SIGNAL_MODE doit valoir « json-rpc » ou « normal »"),
    ],
)
def test_bad_signal_configuration_gives_a_clear_french_error(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({**SIGNAL_ENV, **change})


def test_serve_gives_rasa_and_the_one_bridge_the_same_token(tmp_path: Path) -> None:
    import stat

    import yaml
    from rasa.core.run import create_http_input_channels

    from riposte.cli.serve import Supervisor
    from riposte.services import child_environment, rasa_command, write_credentials
    from riposte.settings import ROOT

    s = Settings.from_env({**SIGNAL_ENV, "RIPOSTE_VAR_DIR": str(tmp_path)})
    supervisor = Supervisor(s, out=lambda _: None)
    path = write_credentials(s, supervisor.signal_bridge_token)
    cmd = rasa_command(s)
    assert cmd[cmd.index("--credentials") + 1] == str(path) == str(tmp_path / "credentials.yml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = yaml.safe_load(path.read_text())
    original = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert {k: v for k, v in written.items() if k in original} == original
    section = written["riposte_rasa.channels.signal.SignalInput"]
    assert section == {
        "number": "+33700000001",
        "api_url": "http://127.0.0.1:8081",
        "bridge_token": supervisor.signal_bridge_token,
        "allow_groups": False,
    }
    assert len(supervisor.signal_bridge_token) >= 32
    assert Supervisor(s).signal_bridge_token != supervisor.signal_bridge_token  # per start

    channels = create_http_input_channels(None, str(path))
    (signal,) = [c for c in channels if isinstance(c, SignalInput)]
    assert signal.bridge_token == supervisor.signal_bridge_token

    children = supervisor._children()
    assert [c.name for c in children] == ["actions", "rasa", "follow-ups", "signal"]
    bridge = children[-1]
    assert bridge.cmd[1:] == ["-m", "riposte.cli", "signal-bridge"]
    assert bridge.extra_env == {"SIGNAL_BRIDGE_TOKEN": supervisor.signal_bridge_token}
    env = child_environment(s, {"SIGNAL_BRIDGE_TOKEN": "hérité", "PATH": "/usr/bin"})
    assert "SIGNAL_BRIDGE_TOKEN" not in env  # Rasa and the actions never get it by env


def test_without_signal_number_serve_is_unchanged() -> None:
    from riposte.cli.serve import Supervisor
    from riposte.services import write_credentials
    from riposte.settings import ROOT

    s = Settings.from_env({"SIGNAL_API_URL": "pas une url", "SIGNAL_MODE": "x"})
    assert s.signal is None
    assert write_credentials(s) == ROOT / "credentials.yml"
    assert [c.name for c in Supervisor(s)._children()] == ["actions", "rasa", "follow-ups"]


def test_bridge_configuration_from_the_environment() -> None:
    from riposte.signal_config import config_from_env

    env = {**SIGNAL_ENV, "SIGNAL_BRIDGE_TOKEN": BRIDGE_TOKEN, "RIPOSTE_RASA_PORT": "5115"}
    config = config_from_env(env)
    assert config.rasa_webhook == "http://127.0.0.1:5115/webhooks/signal/webhook"
    assert config.websocket_url == "ws://127.0.0.1:8081/v1/receive/+33700000001"
    assert config.token == BRIDGE_TOKEN and config.mode == "json-rpc"
    assert BRIDGE_TOKEN not in repr(config) and "+33700000001" not in repr(config)
    with pytest.raises(SettingsError, match="SIGNAL_BRIDGE_TOKEN"):
        config_from_env(SIGNAL_ENV)
    with pytest.raises(SettingsError, match="SIGNAL_NUMBER est vide"):
        config_from_env({"SIGNAL_BRIDGE_TOKEN": BRIDGE_TOKEN})


def test_a_silent_child_is_up_while_it_stays_alive() -> None:
    from riposte.cli.serve import wait_until_up

    assert wait_until_up(None, 0.1, lambda: True, interval=0.02) is True
    assert wait_until_up(None, 0.1, lambda: False, interval=0.02) is False


async def test_bold_markers_are_removed_for_signal(harness: Harness) -> None:
    harness.agent.reply = {"text": "**Ma recommandation** : rester neutre.\n**Code : RIP-7KQ2-M9**"}
    assert await harness.post(envelope("que faire ?")) == 200
    (sent,) = harness.api.sent
    assert sent["message"] == "Ma recommandation : rester neutre.\nCode : RIP-7KQ2-M9"


async def test_a_message_rasa_could_not_process_is_answered_with_the_french_notice(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing(message: UserMessage) -> None:
        raise OSError("database unreachable")

    monkeypatch.setattr(harness.agent, "handle_message", failing)
    assert await harness.post(envelope("on m'insulte sur Google")) == 200
    (sent,) = harness.api.sent
    assert sent["recipients"] == [SENDER_UUID]
    assert sent["message"] == NOT_PROCESSED_MESSAGE
    assert "insulte" not in "\n".join(r.getMessage() for r in caplog.records)


def test_the_bridge_command_riposte_serve_starts_runs() -> None:
    """`riposte serve` starts the bridge as `python -m riposte.cli signal-bridge`."""
    import os
    import subprocess

    from riposte.cli.serve import signal_bridge_command

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [*signal_bridge_command(), "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "SIGNAL_NUMBER" in done.stdout
