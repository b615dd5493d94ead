"""The REST channel (`/webhooks/rest/webhook`) with the sender id pseudonymised and the body
checked before Rasa sees it.

Rasa's channel trusts the body: a list as `message`, a number as `sender` or a body that is
not JSON end in a server error, and any client may claim another `input_channel`. Here:
- a body that is not a JSON object, a `sender` that is not a non-empty string (or number) of
  at most `MAX_SENDER_CHARS`, a `message` that is not a string, `metadata` that is not an
  object: 400 with a French `error`;
- a message over `MAX_MESSAGE_CHARS`: 413 with the usual reply list holding a French message,
  and nothing reaches Rasa;
- the input channel is always `rest`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as _RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from riposte.privacy import pseudonymise
from riposte.settings import MAX_MESSAGE_CHARS, TOO_LONG_MESSAGE

CHANNEL = "rest"
MAX_SENDER_CHARS = 256


def _error(text: str) -> HTTPResponse:
    return response.json({"error": text}, status=400)


def check_body(raw: bytes) -> HTTPResponse | None:
    """None when the body can go to Rasa, else the answer to give instead."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error("Le corps de la requête doit être un objet JSON en UTF-8.")
    if not isinstance(body, dict):
        return _error("Le corps de la requête doit être un objet JSON.")
    sender = body.get("sender")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        return _error("« sender » est obligatoire : une chaîne de caractères.")
    if not str(sender).strip() or len(str(sender)) > MAX_SENDER_CHARS:
        return _error(f"« sender » doit faire de 1 à {MAX_SENDER_CHARS} caractères.")
    message = body.get("message")
    if not isinstance(message, str):
        return _error("« message » est obligatoire : une chaîne de caractères.")
    if (
        "metadata" in body
        and body["metadata"] is not None
        and not isinstance(body["metadata"], dict)
    ):
        return _error("« metadata » doit être un objet JSON.")
    if len(message) > MAX_MESSAGE_CHARS:
        text = TOO_LONG_MESSAGE.format(length=len(message), limit=MAX_MESSAGE_CHARS)
        return response.json([{"recipient_id": str(sender), "text": text}], status=413)
    return None


class RestInput(_RasaRestInput):
    """Same URL and JSON as Rasa's REST channel; Rasa only ever sees the pseudonym.

    The replies carry the pseudonym as `recipient_id`; the client keeps using its own id.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _extract_sender(self, req: Request) -> str | None:
        body = req.json or {}
        sender = body.get("sender")
        if sender is None:
            return None
        return pseudonymise(CHANNEL, str(sender))

    def _extract_input_channel(self, req: Request) -> str:
        return CHANNEL  # never what the client claims

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def checked(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            return check_body(request.body or b"")

        return blueprint
