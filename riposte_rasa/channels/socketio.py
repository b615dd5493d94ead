"""The socket.io channel of the web page: pseudonymised, origin-checked, persistent sessions.

Differences with Rasa's own channel (rasa/core/channels/socketio.py), which this replaces:
- Rasa gets a keyed pseudonym of the browser's session id as the sender id; the replies still
  go to the socket.io room of the real session id (known only while the message is handled).
- Only the page's origins may connect (`RIPOSTE_CORS_ORIGINS`, by default the page served by
  `riposte serve`); Rasa's channel accepts any origin. A connection without an `Origin`
  header (not a browser) is refused too.
- The session id must be a long random value (at least 128 bits: 32 URL-safe characters).
  Whoever knows it can read the replies of that session, so a short or guessable id from the
  client is replaced by one the server draws (`secrets.token_urlsafe`).
- `enter_room` is awaited when the installed python-socketio makes it a coroutine (≥ 5.10):
  Rasa 3.6 does not, and the bot then never answers (a known Rasa 3.6 socket.io behaviour).
- A message over `MAX_MESSAGE_CHARS` is not passed to Rasa: the page gets a French error
  (`riposte_error`) and keeps the text.
- Each client address may open `CONNECT_BURST` connections at once, then `CONNECT_RATE` per
  second; each session may send `MESSAGE_BURST` messages at once, then `MESSAGE_RATE` per
  second (token buckets, riposte/ratelimit.py): past them, the connection is refused, or the
  message gets `riposte_error` with the code `busy` and does not reach Rasa.
- A message Rasa could not process or record (database or action server unavailable: nothing
  of it was kept, see riposte_rasa/patches.py) gets `riposte_error` with the code
  `unavailable` and `not_processed_message()`; the page puts the text back in the input.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as _RasaSocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from riposte.privacy import pseudonymise
from riposte.ratelimit import QuietWarning, RateLimiter
from riposte.settings import MAX_MESSAGE_CHARS, not_processed_message, too_long_message
from riposte_rasa.channels.rest import client_key
from riposte_rasa.messages import message

CHANNEL = "socketio"
ERROR_EVENT = "riposte_error"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,128}")
MAX_PENDING = 5


def too_long_in_input(length: int) -> str:
    """The page's reply to a message over MAX_MESSAGE_CHARS: it stays in the input."""
    return message("socketio.too_long", message=too_long_message(length))


CONNECT_RATE, CONNECT_BURST = 1.0, 60
MESSAGE_RATE, MESSAGE_BURST = 5.0, 120

logger = logging.getLogger(__name__)
_refused_warning = QuietWarning()


def allowed_origins() -> tuple[str, ...]:
    """The origins of the page (`RIPOSTE_CORS_ORIGINS`), as `riposte serve` gives Rasa's CORS."""
    from riposte.settings import Settings

    return Settings.from_env().cors_origins


def session_id_from(data: Any) -> str:
    """The client's session id if it is long and random-looking, else a new random one."""
    wanted = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(wanted, str) and SESSION_ID.fullmatch(wanted):
        return wanted
    return secrets.token_urlsafe(32)


class _RoomOutput(SocketIOOutput):
    """Sends every reply to one socket.io room, whatever recipient id Rasa gives."""

    def __init__(self, output: SocketIOOutput, room: str) -> None:
        super().__init__(output.sio, output.bot_message_evt)
        self.room = room

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(self.room, response)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # Rasa's version sends custom JSON to `recipient_id` (the pseudonym): never a room.
        await self.sio.emit(self.bot_message_evt, dict(json_message), room=self.room)

    async def send_not_processed(self, recipient_id: str) -> None:
        """The message was not kept (riposte_rasa.patches): the page's error event."""
        await self.sio.emit(
            ERROR_EVENT, {"code": "unavailable", "text": not_processed_message()}, room=self.room
        )


class SocketIOInput(_RasaSocketIOInput):
    def __init__(self, *args: Any, origins: Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._origins = tuple(origins) if origins is not None else None
        self.connect_limiter = RateLimiter(CONNECT_RATE, CONNECT_BURST)
        self.message_limiter = RateLimiter(MESSAGE_RATE, MESSAGE_BURST)

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @property
    def origins(self) -> tuple[str, ...]:
        if self._origins is None:
            self._origins = allowed_origins()
        return self._origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Origins are checked in `connect` below; engine.io's own check stays off so that the
        # CORS headers come only from Rasa's `--cors` (two sets of headers break browsers).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace
        pending: Counter[str] = Counter()  # messages of each session being handled

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin not in self.origins:
                logger.warning("socket.io connection refused: origin not allowed")
                return False
            request = environ.get("sanic.request")
            if request is not None and not self.connect_limiter.allow(client_key(request)):
                _refused_warning(logger, "socket.io connection refused: too many from one address")
                return False
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            session_id = session_id_from(data)
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                room = data.get("session_id")
                if not isinstance(room, str) or not SESSION_ID.fullmatch(room):
                    logger.warning("socket.io message without a valid session id: ignored")
                    return
                if room not in sio.rooms(sid, namespace=namespace):
                    logger.warning("socket.io message for a session this socket did not join")
                    return
            else:
                room = sid
            text = data.get("message")
            text = text if isinstance(text, str) else ""

            async def refuse(code: str, text: str) -> None:
                await sio.emit(
                    ERROR_EVENT, {"code": code, "text": text}, room=sid, namespace=namespace
                )

            if len(text) > MAX_MESSAGE_CHARS:
                await refuse("too_long", too_long_in_input(len(text)))
                return
            if pending[room] >= MAX_PENDING or not self.message_limiter.allow(room):
                # A flood would wait on the conversation's lock until Rasa gives up (LockError).
                logger.warning("socket.io session sends too many messages at once: refused")
                await refuse("busy", message("socketio.busy"))
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            output = _RoomOutput(SocketIOOutput(sio, self.bot_message_evt), room)
            pending[room] += 1
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        output,
                        pseudonymise(CHANNEL, room),
                        input_channel=CHANNEL,
                        metadata=metadata if isinstance(metadata, dict) else {},
                    )
                )
            except Exception as error:  # noqa: BLE001 (a socket.io task: nobody else catches it)
                logger.error("socket.io message not handled: %s", type(error).__name__)
                await refuse("unavailable", not_processed_message())
            finally:
                pending[room] -= 1
                if not pending[room]:
                    del pending[room]

        return blueprint
