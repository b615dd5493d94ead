"""Channel user ids never reach Rasa's tracker store: REST and socket.io senders are
pseudonymised, and the socket.io replies still reach the right browser session."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import socketio

from devtools.waiting import timeout_factor
from tests.integration.conftest import Stack

TURN_TIMEOUT = 120  # seconds for a turn on a loaded machine (× RIPOSTE_TEST_TIMEOUT_FACTOR)


def raw_tracker(bot: Stack, sender_id: str) -> dict[str, Any]:
    url = bot.url(f"/conversations/{sender_id}/tracker?token={bot.token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def user_texts(tracker: dict[str, Any]) -> list[str]:
    return [e.get("text") for e in tracker["events"] if e.get("event") == "user"]


def test_rest_sender_is_stored_under_its_pseudonym(bot: Stack) -> None:
    sender = "dr-durand@example.org"
    replies = bot.say(sender, "bonjour")
    pseudonym = bot.pseudonym(sender)
    assert pseudonym != sender and len(pseudonym) == 32
    assert {r["recipient_id"] for r in replies} == {pseudonym}
    assert user_texts(raw_tracker(bot, pseudonym)) == ["bonjour"]
    assert user_texts(raw_tracker(bot, sender)) == []
    assert sender.encode() not in (bot.var_dir / "tracker.db").read_bytes()


async def _acknowledged(client: socketio.AsyncClient, event: str, data: Any, what: str) -> None:
    """Send `event` and wait until the server has handled it: python-socketio acknowledges an
    event once the channel's handler has returned (a session joined, a turn run with all its
    replies sent before)."""
    seconds = TURN_TIMEOUT * timeout_factor()
    try:
        await client.call(event, data, timeout=seconds)
    except socketio.exceptions.TimeoutError:
        raise AssertionError(f"Timed out after {seconds:g} s waiting for: {what}") from None


async def _socketio_chat(bot: Stack, session_id: str, text: str) -> list[dict[str, Any]]:
    client = socketio.AsyncClient()
    replies: list[dict[str, Any]] = []
    client.on("bot_uttered", replies.append)

    await client.connect(
        f"http://127.0.0.1:{bot.rasa_port}",
        socketio_path="/socket.io",
        headers={"Origin": f"http://127.0.0.1:{bot.web_port}"},
    )
    try:
        session = {"session_id": session_id}
        await _acknowledged(client, "session_request", session, "the session joined")
        message = {"message": text, "session_id": session_id}
        await _acknowledged(client, "user_uttered", message, "the message's whole turn")
    finally:
        await client.disconnect()
    return replies


def test_socketio_session_is_pseudonymised_and_answered(bot: Stack) -> None:
    session_id = "browser-session-" + "5f2c9a" * 8
    replies = asyncio.run(_socketio_chat(bot, session_id, "qui es-tu, un robot ?"))
    assert any("Riposte" in r.get("text", "") for r in replies), replies
    pseudonym = bot.pseudonym(session_id, channel="socketio")
    assert user_texts(raw_tracker(bot, pseudonym)) == ["qui es-tu, un robot ?"]
    assert user_texts(raw_tracker(bot, session_id)) == []
