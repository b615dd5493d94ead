"""The REST channel (`/webhooks/rest/webhook`) with the sender id pseudonymised and the body
checked before Rasa sees it.

Rasa's channel trusts the body: a list as `message`, a number as `sender` or a body that is
not JSON end in a server error, and any client may claim another `input_channel`. Here:
- a body that is not a JSON object, a `sender` that is not a non-empty string (or number) of
  at most `MAX_SENDER_CHARS`, a `message` that is not a string, `metadata` that is not an
  object: 400 with a French `error`;
- a message over `MAX_MESSAGE_CHARS`: 413 with the usual reply list holding a French message,
  and nothing reaches Rasa;
- the input channel is always `rest`;
- a message Rasa could not process or record (database or action server unavailable): HTTP
  503 with the usual reply list holding `not_processed_message()`, never a 200 with partial
  replies; nothing of that message is kept (see riposte_rasa/patches.py), so the client
  sends it again. Rasa's own channel answers 200 whatever happened, and logs the text of a
  message that failed.
Access (RIPOSTE_REST, RIPOSTE_REST_TOKEN, riposte/settings.py): the sender id is whatever the
client sends, so whoever reaches this channel can speak in any conversation whose sender they
know or guess. Off by default on a server reachable from the network; when on there, every
request must carry `Authorization: Bearer <RIPOSTE_REST_TOKEN>` (compared in constant time),
else 401. Off: 403. Each client address and each sender get a token bucket
(riposte/ratelimit.py): past it, 429 with `Retry-After` and nothing reaches Rasa.
An answer 200 means the turn is saved: Rasa saves the conversation before `on_new_message`
returns. The streaming mode (`?stream=true`, replies sent as they come) cannot change its
status once started: the French message is then its last line.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as _RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from riposte.privacy import pseudonymise
from riposte.ratelimit import QuietWarning, RateLimiter
from riposte.settings import MAX_MESSAGE_CHARS, not_processed_message, too_long_message
from riposte_rasa.messages import message as reply
from riposte_rasa.patches import tell_not_processed

CHANNEL = "rest"
MAX_SENDER_CHARS = 256
# Token buckets (riposte/ratelimit.py): a person types far slower than a sender's rate; a
# client address may carry several conversations (a test suite, a proxy in front).
SENDER_RATE, SENDER_BURST = 2.0, 60
CLIENT_RATE, CLIENT_BURST = 50.0, 500
logger = logging.getLogger(__name__)
_throttled_warning = QuietWarning()


def client_key(request: Request) -> str:
    """The client's address for the rate limits: the address a trusted proxy reports when
    Sanic is told to read it (SANIC_PROXIES_COUNT, SANIC_REAL_IP_HEADER or
    SANIC_FORWARDED_SECRET), else the connection's (then, behind a proxy, the proxy's)."""
    return str(request.remote_addr or request.ip or "")


def _error(text: str) -> HTTPResponse:
    return response.json({"error": text}, status=400)


def check_body(raw: bytes) -> HTTPResponse | None:
    """None when the body can go to Rasa, else the answer to give instead."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(reply("rest.body_not_json"))
    if not isinstance(body, dict):
        return _error(reply("rest.body_not_object"))
    sender = body.get("sender")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        return _error(reply("rest.sender_required"))
    if not str(sender).strip() or len(str(sender)) > MAX_SENDER_CHARS:
        return _error(reply("rest.sender_length", limit=MAX_SENDER_CHARS))
    message = body.get("message")
    if not isinstance(message, str):
        return _error(reply("rest.message_required"))
    if (
        "metadata" in body
        and body["metadata"] is not None
        and not isinstance(body["metadata"], dict)
    ):
        return _error(reply("rest.metadata_object"))
    if len(message) > MAX_MESSAGE_CHARS:
        text = too_long_message(len(message))
        return response.json([{"recipient_id": str(sender), "text": text}], status=413)
    return None


class RestInput(_RasaRestInput):
    """Same URL and JSON as Rasa's REST channel; Rasa only ever sees the pseudonym.

    The replies carry the pseudonym as `recipient_id`; the client keeps using its own id.
    """

    def __init__(self, enabled: bool | None = None, token: str | None = None) -> None:
        """`enabled` and `token` default to RIPOSTE_REST and RIPOSTE_REST_TOKEN."""
        if enabled is None:
            from riposte.settings import Settings

            settings = Settings.from_env()
            enabled, token = settings.rest_enabled, settings.rest_token
        self.enabled = enabled
        self.token = token
        self.sender_limiter = RateLimiter(SENDER_RATE, SENDER_BURST)
        self.client_limiter = RateLimiter(CLIENT_RATE, CLIENT_BURST)

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def refusal(self, request: Request) -> HTTPResponse | None:
        """403 when the channel is off, 401 without the right bearer token, else None."""
        if not self.enabled:
            return response.json({"error": reply("rest.disabled")}, status=403)
        if self.token is None:
            return None
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8"), self.token.encode("utf-8")
        ):
            return response.json(
                {"error": reply("rest.unauthorized")},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    def throttled(self, key: str, limiter: RateLimiter, recipient: str) -> HTTPResponse | None:
        """429 (the usual reply list, `Retry-After`) when `key` has spent its bucket."""
        if limiter.allow(key):
            return None
        seconds = limiter.retry_after(key)
        _throttled_warning(logger, "rest: a client or sender sends too fast; answered 429")
        return response.json(
            [{"recipient_id": recipient, "text": reply("rest.too_many", seconds=seconds)}],
            status=429,
            headers={"Retry-After": str(seconds)},
        )

    async def _extract_sender(self, req: Request) -> str | None:
        body = req.json or {}
        sender = body.get("sender")
        if sender is None:
            return None
        return pseudonymise(CHANNEL, str(sender))

    def _extract_input_channel(self, req: Request) -> str:
        return CHANNEL  # never what the client claims

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's two routes (`GET /`, `POST /webhook`), failures answered as said above."""
        module = inspect.getmodule(self)
        blueprint = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        blueprint.listener("before_server_start")(hide_rasa_version)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            refused = self.refusal(request) or self.throttled(
                client_key(request), self.client_limiter, ""
            )
            if refused is not None:
                return refused
            refused = check_body(request.body or b"")
            if refused is not None:
                return refused
            sender_id = await self._extract_sender(request) or ""  # check_body: never None
            refused = self.throttled(sender_id, self.sender_limiter, sender_id)
            if refused is not None:
                return refused
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(
                        _told_on_failure(on_new_message), text, sender_id, input_channel, metadata
                    ),
                    content_type="text/event-stream",
                )
            collector = _Collector()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender_id, input_channel=input_channel, metadata=metadata
                    )
                )
            except asyncio.CancelledError:
                logger.error("rest: a message was cancelled (timeout) before its end")
                raise
            except Exception as error:  # noqa: BLE001 (answered 503; the type is logged)
                _log_failure(error)
                return not_processed(sender_id)
            if collector.not_processed:
                return not_processed(sender_id)
            return response.json(collector.messages)

        return blueprint


async def hide_rasa_version(app: Any, _loop: Any = None) -> None:
    """Rasa's `GET /` answers « Hello from Rasa: 3.6.21 »: the version tells an attacker which
    known flaws to try. Same answer (200, what health checks need), without the version.
    A listener of this channel's blueprint, so that every Rasa server loading credentials.yml
    gets it (the channel is always listed there, even when RIPOSTE_REST turns it off)."""

    async def hello(_: Request) -> HTTPResponse:
        return response.text("Hello from Rasa")

    for route in app.router.routes:
        if route.path in ("", "/") and "GET" in route.methods:
            route.handler = hello


class _Collector(CollectingOutputChannel):
    """Rasa's collecting channel; `send_not_processed` (riposte_rasa.patches) turns the
    answer into a 503."""

    not_processed = False

    async def send_not_processed(self, recipient_id: str) -> None:
        self.not_processed = True


def not_processed(recipient_id: str) -> HTTPResponse:
    """503 with the reply list a client already reads: nothing of the message was kept."""
    return response.json(
        [{"recipient_id": recipient_id, "text": not_processed_message()}], status=503
    )


def _log_failure(error: Exception) -> None:
    # Never the message's text (Rasa's channel logs it); the traceback only at debug level.
    logger.error("rest: a message could not be processed (%s); answered 503", type(error).__name__)
    logger.debug("rest: a message could not be processed", exc_info=True)


def _told_on_failure(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """For the streaming mode: a failure ends the stream with `not_processed_message()`."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:  # noqa: BLE001
            _log_failure(error)
            await tell_not_processed(message.output_channel, message.sender_id)

    return handle
