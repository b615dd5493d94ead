"""The socket.io channel's rate limits, served by Sanic on loopback with a fake agent."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import socketio

from devtools.waiting import wait_until_async
from riposte.ratelimit import RateLimiter
from riposte_rasa.channels.socketio import SocketIOInput
from riposte_rasa.messages import message
from tests.channels.sanic_app import FakeAgent, served

ORIGIN = "http://localhost:8080"


# A channel served in this process by tests/channels/sanic_app.py (tests/channels/conftest.py).
pytestmark = pytest.mark.usefixtures("sanic_test_mode", "channel_key")


def serve(channel: SocketIOInput) -> AbstractAsyncContextManager[tuple[str, FakeAgent]]:
    return served(channel, "socketio_test")


def make_channel() -> SocketIOInput:
    return SocketIOInput(
        user_message_evt="user_uttered",
        bot_message_evt="bot_uttered",
        session_persistence=True,
        origins=[ORIGIN],
    )


async def connected(url: str) -> socketio.AsyncClient | None:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, headers={"Origin": ORIGIN}, transports=["polling"])
    except socketio.exceptions.ConnectionError:
        if client.eio.http is not None:
            await client.eio.http.close()
        return None
    return client


async def test_connections_past_the_burst_are_refused() -> None:
    channel = make_channel()
    channel.connect_limiter = RateLimiter(rate=0.01, burst=3)
    async with serve(channel) as (url, _agent):
        clients = [await connected(url) for _ in range(5)]
        assert [c is not None for c in clients] == [True, True, True, False, False]
        for client in clients:
            if client is not None:
                await client.disconnect()


async def test_a_session_flooding_messages_gets_busy_while_another_is_answered() -> None:
    channel = make_channel()
    channel.message_limiter = RateLimiter(rate=0.01, burst=3)
    async with serve(channel) as (url, agent):
        replies: dict[str, list[Any]] = {"flood": [], "doctor": []}
        errors: list[Any] = []
        sessions = {}
        for name in replies:
            client = await connected(url)
            assert client is not None
            confirmed = asyncio.get_running_loop().create_future()
            client.on("session_confirm", lambda sid, f=confirmed: f.set_result(sid))
            client.on("bot_uttered", lambda data, n=name: replies[n].append(data))
            client.on("riposte_error", lambda data: errors.append(data))
            await client.emit("session_request", {"session_id": uuid.uuid4().hex})
            sessions[name] = (client, await asyncio.wait_for(confirmed, 10))
        flood, flood_session = sessions["flood"]
        for _ in range(8):
            await flood.emit("user_uttered", {"message": "x", "session_id": flood_session})
        doctor, doctor_session = sessions["doctor"]
        await doctor.emit("user_uttered", {"message": "bonjour", "session_id": doctor_session})
        await wait_until_async(
            lambda: replies["doctor"] and len(errors) >= 5,
            lambda: f"the doctor's reply and 5 refusals ({replies}, {errors})",
            timeout=10,
        )
        assert len(agent.received) == 4  # 3 of the flood, 1 of the doctor
        assert {e["code"] for e in errors} == {"busy"} and errors[0]["text"] == message(
            "socketio.busy"
        )
        for client, _session in sessions.values():
            await client.disconnect()


def test_a_too_long_message_is_answered_in_french_and_stays_in_the_input() -> None:
    from riposte_rasa.channels.socketio import too_long_in_input

    assert too_long_in_input(6000) == (
        "Votre message est trop long (6000 caractères, 5000 au plus) : raccourcissez-le ou "
        "envoyez-le en plusieurs fois. Il est resté dans la zone de saisie."
    )
