"""The socket.io channel with the browser's session id pseudonymised.

Rasa's channel keys the conversation on the session id the page sends and answers in the
socket.io room of that id. Here Rasa gets the pseudonym as the sender id, and the replies
still go to the room of the real session id (known only while the message is handled).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as _RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from riposte.privacy import pseudonymise

CHANNEL = "socketio"


class _RoomOutput(SocketIOOutput):
    """Sends every reply to one socket.io room, whatever recipient id Rasa gives."""

    def __init__(self, output: SocketIOOutput, room: str) -> None:
        super().__init__(output.sio, output.bot_message_evt)
        self.room = room

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(self.room, response)


class SocketIOInput(_RasaSocketIOInput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def pseudonymised(message: UserMessage) -> Any:
            room = str(message.sender_id)
            message.sender_id = pseudonymise(CHANNEL, room)
            if isinstance(message.output_channel, SocketIOOutput):
                message.output_channel = _RoomOutput(message.output_channel, room)
            return await on_new_message(message)

        return super().blueprint(pseudonymised)
