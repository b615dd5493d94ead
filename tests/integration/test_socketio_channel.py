"""Rasa's socket.io endpoint as the page uses it (riposte_rasa/channels/socketio.py): only the
page's origin may connect, session ids are long random values, a too-long message is refused."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import deque
from typing import Any

import pytest
import socketio

from devtools.waiting import timeout_factor, wait_until_async
from tests.integration.conftest import Stack

LONG_ID = "a1B2c3D4" * 8  # 64 URL-safe characters


class Client:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: deque[tuple[str, Any]] = deque()  # received, not yet taken by `next`
        self.skipped: list[str] = []  # the events `next` dropped on its way
        for name in ("session_confirm", "bot_uttered", "riposte_error"):
            self.sio.on(name, self._record(name))

    def _record(self, name: str) -> Any:
        def handler(data: Any) -> None:
            self.events.append((name, data))

        return handler

    async def connect(self, bot: Stack, origin: str | None) -> None:
        headers = {"Origin": origin} if origin else {}
        await self.sio.connect(
            f"http://127.0.0.1:{bot.rasa_port}", socketio_path="/socket.io", headers=headers
        )

    async def next(self, name: str, timeout: float = 60) -> Any:
        """The data of the next `name` event; the other events received before it are dropped."""

        def arrived() -> tuple[Any, ...]:  # (data,) once arrived: true even if data is not
            while self.events:
                event, data = self.events.popleft()
                if event == name:
                    return (data,)
                self.skipped.append(event)
            return ()

        (data,) = await wait_until_async(
            arrived, lambda: f"a {name} event (dropped meanwhile: {self.skipped})", timeout=timeout
        )
        return data

    async def handled(self, event: str, data: Any, timeout: float = 120) -> None:
        """Send `event` and wait until the server has handled it: python-socketio acknowledges
        an event once the channel's handler has returned (the message refused, ignored, or its
        whole turn run, its replies sent before the acknowledgement)."""
        seconds = timeout * timeout_factor()
        try:
            await self.sio.call(event, data, timeout=seconds)
        except socketio.exceptions.TimeoutError:
            raise AssertionError(
                f"Timed out after {seconds:g} s waiting for: the server to handle {event}"
            ) from None


def page_origin(bot: Stack) -> str:
    return f"http://127.0.0.1:{bot.web_port}"


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None])
def test_other_origins_are_refused(bot: Stack, origin: str | None) -> None:
    async def attempt() -> None:
        client = Client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(bot, origin)

    asyncio.run(attempt())


def test_short_session_ids_are_replaced_and_long_ones_kept(bot: Stack) -> None:
    async def chat() -> tuple[str, str, Any]:
        client = Client()
        await client.connect(bot, page_origin(bot))
        try:
            await client.sio.emit("session_request", {"session_id": "1234"})
            drawn = await client.next("session_confirm")
            await client.sio.emit("session_request", {"session_id": LONG_ID})
            kept = await client.next("session_confirm")
            await client.sio.emit("user_uttered", {"message": "bonjour", "session_id": kept})
            reply = await client.next("bot_uttered")
        finally:
            await client.sio.disconnect()
        return drawn, kept, reply

    drawn, kept, reply = asyncio.run(chat())
    assert drawn != "1234" and len(drawn) >= 43
    assert kept == LONG_ID
    assert reply.get("text")


def test_a_session_not_joined_is_not_answered(bot: Stack) -> None:
    async def chat() -> bool:
        client = Client()
        await client.connect(bot, page_origin(bot))
        try:
            await client.sio.emit("session_request", {"session_id": LONG_ID})
            await client.next("session_confirm")
            other = "z9Y8x7W6" * 8
            # Once the server has handled the message, whatever it sent for it has arrived.
            await client.handled("user_uttered", {"message": "bonjour", "session_id": other})
            return any(event == "bot_uttered" for event, _ in client.events)
        finally:
            await client.sio.disconnect()

    assert asyncio.run(chat()) is False
    pseudonym = bot.pseudonym("z9Y8x7W6" * 8, channel="socketio")
    url = bot.url(f"/conversations/{pseudonym}/tracker?token={bot.token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    assert [e for e in events if e.get("event") == "user"] == []


def test_a_too_long_message_gets_a_french_error(bot: Stack) -> None:
    async def chat() -> Any:
        client = Client()
        await client.connect(bot, page_origin(bot))
        try:
            await client.sio.emit("session_request", {"session_id": LONG_ID})
            await client.next("session_confirm")
            await client.sio.emit("user_uttered", {"message": "x" * 50_000, "session_id": LONG_ID})
            return await client.next("riposte_error")
        finally:
            await client.sio.disconnect()

    error = asyncio.run(chat())
    assert error["code"] == "too_long"
    assert "50000 caractères" in error["text"] and "5000 au plus" in error["text"]
