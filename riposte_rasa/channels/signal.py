"""Signal, through signal-cli-rest-api, fed by exactly one consumer.

signal-cli-rest-api must have exactly one reader: in json-rpc mode its websocket drops what
arrives while no client is connected, and two readers answer every message twice. So Rasa never
reads from it: the bridge (`riposte signal-bridge`, riposte/cli/signal_bridge.py) is the only
consumer and posts each envelope, as received, to this channel's webhook
`POST /webhooks/signal/webhook` with the header `X-Riposte-Bridge-Token`.

- a request without the bridge token (constant-time comparison) gets 403; nothing is sent;
- the conversation is keyed on the sender's UUID (`sourceUuid`, else `sourceNumber`/`source`),
  pseudonymised (`riposte.privacy.pseudonymise("signal", …)`): Rasa never sees the number;
- envelopes without text (receipts, typing, sync messages…) answer 200 and are ignored; group
  messages too, unless the credential `allow_groups` is true (then the sender is answered
  privately, never in the group); a malformed body answers 400;
- replies go to the real sender through `POST {api_url}/v2/send`; buttons become numbered
  choices in the text, and a later "1", "2"… from the same sender reaches Rasa as the payload
  of that button (the last buttons of each sender are kept in memory, by pseudonym);
- documents (`send_custom_json` with `document`) are sent as base64 attachments;
- attachments the sender sends (`dataMessage.attachments`) are downloaded here, in the channel,
  from `GET {api_url}/v1/attachments/{id}` (the bridge stays the only reader of /v1/receive and
  forwards envelopes unchanged), then deleted from signal-cli-rest-api (`DELETE`, best effort:
  it keeps them in clear otherwise). An image or PDF of 10 MB at most is sealed in the case
  store's inbox and Rasa gets `/send_evidence_file{"evidence_file_ref": …}`, which files it in
  the evidence journal (riposte_rasa/channels/evidence_files.py); the message's text, if any, is
  its caption. Another type or a larger file gets a French reply and nothing is kept.

Phone numbers, message texts and files are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from riposte.privacy import pseudonymise
from riposte.signal_config import TOKEN_HEADER
from riposte_rasa.channels.contacts import Directory, remember
from riposte_rasa.channels.evidence_files import (
    MAX_BYTES,
    NOT_RECEIVED,
    TOO_LARGE,
    Refused,
    keep,
    read_limited,
)
from riposte_rasa.channels.formatting import plain
from riposte_rasa.patches import tell_not_processed

logger = logging.getLogger(__name__)

CHANNEL = "signal"
DEFAULT_API_URL = "http://127.0.0.1:8081"
MAX_REMEMBERED = 10_000  # senders whose last buttons are kept in memory
SEND_TIMEOUT = aiohttp.ClientTimeout(total=60)
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120)  # an attachment of 10 MB at most
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """The text followed by the buttons as numbered choices ("1. Titre", "2. Titre"…)."""
    lines = [f"{index}. {button.get('title', '')}" for index, button in enumerate(buttons, 1)]
    return "\n\n".join(part for part in (text.strip(), "\n".join(lines)) if part)


class SignalSendError(RuntimeError):
    """signal-cli-rest-api refused or did not answer a send (no content in the message)."""


class SignalOutput(OutputChannel):
    """Sends through signal-cli-rest-api's `POST /v2/send`, from the bot's number."""

    def __init__(self, api_url: str, number: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.number = number
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=SEND_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, recipient: str, message: str, attachments: list[str] | None = None
    ) -> None:
        body: dict[str, Any] = {"number": self.number, "recipients": [recipient]}
        body["message"] = message
        if attachments:
            body["base64_attachments"] = attachments
        try:
            async with self._http().post(f"{self.api_url}/v2/send", json=body) as answer:
                if answer.status >= 300:
                    raise SignalSendError(f"signal: /v2/send answered {answer.status}")
        except aiohttp.ClientError as error:
            raise SignalSendError(f"signal: /v2/send failed ({type(error).__name__})") from None

    def _attachment_url(self, attachment_id: str) -> str:
        return f"{self.api_url}/v1/attachments/{quote(attachment_id, safe='')}"

    async def fetch_attachment(self, attachment_id: str, limit: int = MAX_BYTES) -> bytes:
        """A received attachment's content; `Refused` when over `limit` or not downloadable."""
        try:
            async with self._http().get(
                self._attachment_url(attachment_id), timeout=DOWNLOAD_TIMEOUT
            ) as answer:
                if answer.status >= 300:
                    logger.warning("signal: /v1/attachments answered %d", answer.status)
                    raise Refused(NOT_RECEIVED)
                return await read_limited(answer, limit)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("signal: an attachment download failed (%s)", type(error).__name__)
            raise Refused(NOT_RECEIVED) from None

    async def forget_attachment(self, attachment_id: str) -> None:
        """Delete a received attachment from signal-cli-rest-api (best effort)."""
        try:
            async with self._http().delete(self._attachment_url(attachment_id)) as answer:
                if answer.status >= 300:
                    logger.warning("signal: deleting an attachment answered %d", answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("signal: deleting an attachment failed (%s)", type(error).__name__)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send(recipient_id, plain(text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send(recipient_id, numbered(plain(text), buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Signal cannot send a picture by URL: the link is sent (never fetched by us)."""
        await self.send(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """A document by URL: the link is sent as text."""
        await self.send(recipient_id, attachment)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Only `{"document": {"filename", "data_base64", "media_type"}, "caption"}` is sent."""
        document = json_message.get("document")
        if not isinstance(document, dict):
            logger.warning("signal: a custom message without a document is not sent")
            return
        data = str(document.get("data_base64", ""))
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            logger.error("signal: a custom document is not valid base64; not sent")
            return
        filename = re.sub(r"[;,\s]", "_", str(document.get("filename") or "document"))
        media = str(document.get("media_type") or "application/octet-stream")
        attachment = f"data:{media};filename={filename};base64,{data}"
        await self.send(recipient_id, str(json_message.get("caption") or ""), [attachment])


class _SenderOutput(OutputChannel):
    """Every reply goes to one Signal sender, whatever recipient id (pseudonym) Rasa gives."""

    def __init__(
        self,
        output: SignalOutput,
        recipient: str,
        remember: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.output = output
        self.recipient = recipient
        self.remember = remember

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.output.send_text_message(self.recipient, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        self.remember([dict(button) for button in buttons])
        await self.output.send_text_with_buttons(self.recipient, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.output.send_image_url(self.recipient, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.output.send_attachment(self.recipient, attachment)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.output.send_custom_json(self.recipient, json_message)


class Malformed(ValueError):
    """The body is not a signal-cli-rest-api envelope."""


@dataclass(frozen=True)
class Attachment:
    """One entry of `dataMessage.attachments`, as signal-cli-rest-api gives it."""

    id: str
    content_type: str | None
    filename: str | None
    size: int | None


@dataclass(frozen=True)
class Incoming:
    sender: str  # UUID, else number: the conversation key and the reply's recipient
    text: str  # with attachments, their caption (may be empty)
    attachments: tuple[Attachment, ...] = ()


def _attachments(value: Any) -> tuple[Attachment, ...]:
    found = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            continue
        size = item.get("size")
        found.append(
            Attachment(
                id=item["id"],
                content_type=_text_or_none(item.get("contentType")),
                filename=_text_or_none(item.get("filename")),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return tuple(found)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_envelope(body: Any, allow_groups: bool = False, own_number: str = "") -> Incoming | None:
    """The sender, text and attachments of one received message, None when there is nothing
    to answer.

    Raises `Malformed` when `body` is not `{"envelope": {...}, ...}`.
    """
    if not isinstance(body, dict) or not isinstance(body.get("envelope"), dict):
        raise Malformed("no envelope")
    envelope = body["envelope"]
    data = envelope.get("dataMessage")
    if not isinstance(data, dict):
        return None  # receipt, typing, sync message, call…
    text = data.get("message")
    text = text if isinstance(text, str) else ""
    attachments = _attachments(data.get("attachments"))
    if not text.strip() and not attachments:
        return None  # reaction, sticker…
    if (data.get("groupInfo") or data.get("groupV2")) and not allow_groups:
        return None
    for key in ("sourceUuid", "sourceNumber", "source"):
        sender = envelope.get(key)
        if isinstance(sender, str) and sender.strip():
            sender = sender.strip()
            break
    else:
        raise Malformed("no sender")
    if own_number and own_number in (envelope.get("sourceNumber"), envelope.get("source")):
        return None  # our own message, seen from another device
    return Incoming(sender, text, attachments)


class SignalInput(InputChannel):
    """The webhook `/webhooks/signal/webhook`, fed by the bridge only."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        number = str(credentials.get("number") or "")
        token = str(credentials.get("bridge_token") or "")
        if not number or not token:
            raise RasaException("Signal: number and bridge_token are both required.")
        return cls(
            number,
            token,
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            allow_groups=credentials.get("allow_groups") is True,
        )

    def __init__(
        self,
        number: str,
        bridge_token: str,
        api_url: str = DEFAULT_API_URL,
        allow_groups: bool = False,
    ) -> None:
        self.number = number
        self.bridge_token = bridge_token
        self.api_url = api_url.rstrip("/")
        self.allow_groups = allow_groups
        self._output: SignalOutput | None = None
        # pseudonym → the buttons of the last reply (oldest senders forgotten first)
        self._buttons: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def sender(self) -> SignalOutput:
        """The sender (one aiohttp session, opened lazily in the server's loop)."""
        if self._output is None:
            self._output = SignalOutput(self.api_url, self.number)
        return self._output

    def get_output_channel(self) -> OutputChannel:
        """For replies outside a webhook request (Rasa's HTTP API: a follow-up sent by
        `trigger_intent`): the recipient is a pseudonym, whose Signal address the address book
        keeps (riposte_rasa/channels/contacts.py); its buttons are numbered as usual."""
        return Directory(
            CHANNEL,
            lambda address, pseudonym: _SenderOutput(
                self.sender(), address, lambda buttons: self._remember(pseudonym, buttons)
            ),
        )

    def _authentic(self, request: Request) -> bool:
        given = request.headers.get(TOKEN_HEADER)
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.bridge_token.encode("utf-8"))

    def _remember(self, pseudonym: str, buttons: list[dict[str, Any]]) -> None:
        self._buttons[pseudonym] = buttons
        self._buttons.move_to_end(pseudonym)
        while len(self._buttons) > MAX_REMEMBERED:
            self._buttons.popitem(last=False)

    def _choice(self, pseudonym: str, text: str) -> str:
        """The payload of button n when `text` is "n" and the last reply had buttons."""
        buttons = self._buttons.pop(pseudonym, None)
        match = _CHOICE.match(text)
        if not buttons or not match:
            return text
        index = int(match.group(1))
        if not 1 <= index <= len(buttons):
            return text
        button = buttons[index - 1]
        return str(button.get("payload") or button.get("title") or text)

    async def _file_message(
        self, sender: _SenderOutput, pseudonym: str, attachment: Attachment, caption: str
    ) -> str | None:
        """The message for Rasa once the attachment is in the inbox; None (after a reply) if not.

        The attachment is then deleted from signal-cli-rest-api, kept or not.
        """
        output = sender.output
        try:
            if attachment.size is not None and attachment.size > MAX_BYTES:
                raise Refused(TOO_LARGE)
            data = await output.fetch_attachment(attachment.id)
            return await keep(CHANNEL, pseudonym, data, attachment.filename, caption)
        except Refused as refusal:
            await sender.send_text_message(pseudonym, str(refusal))
            return None
        finally:
            await output.forget_attachment(attachment.id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        signal = Blueprint("riposte_signal", __name__)
        output = self.sender()

        @signal.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await output.close()

        @signal.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @signal.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self._authentic(request):
                logger.warning("signal: envelope refused (missing or wrong bridge token)")
                return response.text("forbidden", status=403)
            try:
                body = json.loads(request.body or b"")
                incoming = parse_envelope(body, self.allow_groups, self.number)
            except (ValueError, UnicodeDecodeError) as error:  # Malformed is a ValueError
                logger.warning("signal: malformed envelope refused (%s)", type(error).__name__)
                return response.text("bad request", status=400)
            if incoming is None:
                return response.text("ignored")
            pseudonym = pseudonymise(CHANNEL, incoming.sender)
            sender_output = _SenderOutput(
                output, incoming.sender, lambda buttons: self._remember(pseudonym, buttons)
            )
            try:
                if incoming.attachments:
                    texts = []
                    for attachment in incoming.attachments:
                        text = await self._file_message(
                            sender_output, pseudonym, attachment, incoming.text
                        )
                        if text is not None:
                            texts.append(text)
                else:
                    texts = [self._choice(pseudonym, incoming.text)]
                for text in texts:
                    await on_new_message(
                        UserMessage(
                            text,
                            sender_output,
                            pseudonym,
                            input_channel=CHANNEL,
                            metadata=self.get_metadata(request),
                        )
                    )
                if texts:  # follow-ups due for this conversation come later, by pseudonym
                    await remember(CHANNEL, pseudonym, incoming.sender)
            except Exception as error:  # not resent by the bridge: the doctor is told instead
                logger.error("signal: handling an envelope failed (%s)", type(error).__name__)
                logger.debug("signal: handling an envelope failed", exc_info=True)
                # Nothing of the message was kept (e.g. database unavailable): say so.
                with contextlib.suppress(Exception):
                    await tell_not_processed(sender_output, pseudonym)
            return response.text("success")

        return signal
