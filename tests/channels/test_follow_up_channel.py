"""The follow-up channel of the Rasa server (riposte_rasa/channels/follow_ups.py): only the
scheduler, with the action secret, gets a follow-up said; in the named channel's conversation;
a channel that fails answers 502 (the scheduler tries again)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic

from riposte_rasa.channels.follow_ups import TOKEN_HEADER, FollowUpInput, follow_up_message
from tests.channels.sanic_app import start_served, stop_served

SECRET = "secret-d-action-de-test-0123456789"
ENTITY = "12.claim-token_AZ09"


class TelegramLike(InputChannel):
    """Stands for the Telegram channel: its output for Rasa's sends outside a webhook."""

    def __init__(self, output: OutputChannel) -> None:
        self.output = output

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def blueprint(self, on_new_message: Any) -> Blueprint:
        return Blueprint(f"telegram_like_{uuid.uuid4().hex[:8]}")

    def get_output_channel(self) -> OutputChannel:
        return self.output


class Output(OutputChannel):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if self.down:
            raise ConnectionError("Telegram unreachable")
        self.sent.append((recipient_id, text))


@dataclass
class FakeAgent:
    """Stands for Rasa's agent: records each message and says something through its output."""

    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, "Rappel : …")


@dataclass
class Harness:
    url: str
    agent: FakeAgent
    output: Output
    http: aiohttp.ClientSession

    async def post(self, body: Any, token: str | None = SECRET) -> int:
        headers = {TOKEN_HEADER: token} if token is not None else {}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        async with self.http.post(self.url, data=data, headers=headers) as answer:
            return answer.status


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


async def start(secret: str) -> tuple[Harness, Any]:
    agent, output = FakeAgent(), Output()
    channels = [FollowUpInput(secret), TelegramLike(output)]
    server, base = await start_served(channels, "follow_up_test", agent)
    url = f"{base}/webhooks/follow_ups/webhook"
    return Harness(url, agent, output, aiohttp.ClientSession()), server


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h, server = await start(SECRET)
    yield h
    await h.http.close()
    await stop_served(server)


BODY = {"sender": "5b1e0c9d7a6f43e2", "channel": "telegram", "follow_up": ENTITY}


async def test_the_scheduler_gets_the_follow_up_said_in_the_conversation(
    harness: Harness,
) -> None:
    assert await harness.post(BODY) == 200
    (message,) = harness.agent.received
    assert (
        message.text == follow_up_message(ENTITY) == '/follow_up_due{"follow_up": "' + ENTITY + '"}'
    )
    assert (message.sender_id, message.input_channel) == ("5b1e0c9d7a6f43e2", "telegram")
    assert harness.output.sent == [("5b1e0c9d7a6f43e2", "Rappel : …")]


async def test_without_the_secret_nothing_is_said(harness: Harness) -> None:
    assert await harness.post(BODY, token=None) == 403
    assert await harness.post(BODY, token="secret-d-action-faux-0123456789") == 403
    assert harness.agent.received == []


@pytest.mark.parametrize(
    "body",
    [
        "pas du JSON",
        {"sender": "5b1e0c9d7a6f43e2", "channel": "telegram"},
        {**BODY, "channel": "socketio"},  # only the channels a scheduler reaches
        {**BODY, "follow_up": '12.x"}, "autre": "'},
        {**BODY, "sender": "../../conversations"},
    ],
)
async def test_a_malformed_request_is_refused(harness: Harness, body: Any) -> None:
    assert await harness.post(body) == 400
    assert harness.agent.received == []


async def test_a_channel_not_configured_answers_404(harness: Harness) -> None:
    assert await harness.post({**BODY, "channel": "signal"}) == 404


async def test_a_channel_that_fails_answers_502(harness: Harness) -> None:
    harness.output.down = True
    assert await harness.post(BODY) == 502


async def test_without_the_action_secret_in_rasa_every_request_is_refused() -> None:
    h, server = await start("")
    try:
        assert await h.post(BODY, token="") == 403
        assert await h.post(BODY) == 403
        assert h.agent.received == []
    finally:
        await h.http.close()
        await stop_served(server)
