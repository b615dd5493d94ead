"""The door the follow-up scheduler (riposte/scheduler.py) knocks at, in the Rasa server:
`POST /webhooks/follow_ups/webhook`.

Rasa's HTTP API (`trigger_intent`) would do, but it is open only with RIPOSTE_API_TOKEN; this
channel needs no public API. It accepts only requests carrying the action secret
(RIPOSTE_ACTION_SECRET, already shared by Rasa and the action server: `riposte serve` draws
it at each start and gives it to its scheduler) in the header `X-Riposte-Follow-Up-Token`,
compared in constant time; without the secret in Rasa's environment, it refuses everything.

The body names the conversation (`sender`, the pseudonym Rasa knows), its channel (`telegram`
or `signal`) and the claimed follow-up (`follow_up`: "<id>.<claim>"). The channel hands Rasa
the message `/follow_up_due{"follow_up": "<id>.<claim>"}` in that conversation, with the
output of the named channel (which finds the doctor's address in the address book,
riposte_rasa/channels/contacts.py): `action_follow_up` then says it as a normal bot turn.
Rasa's answer is the scheduler's: 200 once the channel took the messages, 502 when the
channel failed (the scheduler tries again later), 403, 400 or 404 for a wrong request.
Nothing of the body is logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from riposte.access import MIN_SECRET_CHARS, SECRET_ENV, token_matches

logger = logging.getLogger(__name__)

CHANNEL = "follow_ups"
TOKEN_HEADER = "X-Riposte-Follow-Up-Token"
INTENT = "follow_up_due"
ENTITY = "follow_up"
PUSH_CHANNELS = ("telegram", "signal")
_ENTITY = re.compile(r"^[0-9]{1,18}\.[A-Za-z0-9_-]{1,64}$")
_SENDER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def follow_up_message(entity: str) -> str:
    """The message Rasa reads as the intent `follow_up_due` with its entity."""
    return f"/{INTENT}{json.dumps({ENTITY: entity})}"


class FollowUpInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(os.environ.get(SECRET_ENV, "").strip())

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            logger.error("follow-ups: %s missing or too short: every request refused", SECRET_ENV)
            secret = ""
        self.secret = secret

    def _authentic(self, request: Request) -> bool:
        return bool(self.secret) and token_matches(request.headers.get(TOKEN_HEADER), self.secret)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        follow_ups = Blueprint("riposte_follow_ups", __name__)

        @follow_ups.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self._authentic(request):
                logger.warning("follow-ups: request refused (missing or wrong token)")
                return response.json({"error": "forbidden"}, status=403)
            try:
                body = json.loads(request.body or b"")
                sender, channel, entity = body["sender"], body["channel"], body["follow_up"]
            except (ValueError, TypeError, KeyError):
                return response.json({"error": "malformed"}, status=400)
            if not (
                isinstance(sender, str)
                and _SENDER.match(sender)
                and isinstance(entity, str)
                and _ENTITY.match(entity)
                and channel in PUSH_CHANNELS
            ):
                return response.json({"error": "malformed"}, status=400)
            channels = getattr(request.app.ctx, "input_channels", None) or []
            target = next((c for c in channels if c.name() == channel), None)
            if target is None:
                return response.json({"error": f"no {channel} channel"}, status=404)
            try:
                await on_new_message(
                    UserMessage(
                        follow_up_message(entity),
                        target.get_output_channel(),
                        sender,
                        input_channel=channel,
                    )
                )
            except Exception as error:  # the channel failed: the scheduler tries again
                logger.warning(
                    "follow-ups: not delivered on %s (%s)", channel, type(error).__name__
                )
                return response.json({"error": "not delivered"}, status=502)
            return response.json({"status": "sent"})

        return follow_ups
