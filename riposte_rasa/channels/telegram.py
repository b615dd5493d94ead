"""Telegram, through a connector of ours built on Rasa's channel (aiogram 2).

What changes from Rasa's built-in channel:

- the Bot API base URL is configurable (`api_url`: a local Bot API server, or a fake in tests);
- every update must carry the `X-Telegram-Bot-Api-Secret-Token` header given to `setWebhook`
  (`secret_token`); others get 403 and nothing is sent;
- `setWebhook` runs in the server's own event loop after start-up, retried with backoff in the
  background: an unreachable Telegram never stops Rasa; the aiogram session is closed on stop;
- no `getMe` per update; updates without a usable message answer 200 and are ignored;
- Telegram's `/start` reaches Rasa as `/greet`; a button press (callback query) reaches Rasa as
  the button's payload, and the query is answered so that the client stops its spinner;
- Rasa sees the chat id pseudonymised (`riposte.privacy.pseudonymise("telegram", chat_id)`);
  the replies still go to the real chat, known only while the update is handled;
- texts are split under Telegram's 4096-character limit; buttons become an inline keyboard,
  one button per row; documents can be sent (`send_attachment`, or custom JSON `document`).

Only private chats are served. A photo (its largest size) or a document sent by the user is
fetched (`getFile`, then `{api_url}/file/bot<token>/<file_path>`), checked and sealed in the case
store's inbox, and Rasa gets `/send_evidence_file{"evidence_file_ref": …}`, which files it in
the evidence journal (riposte_rasa/channels/evidence_files.py); a file too large or of another type
than image or PDF gets a French reply and nothing is kept. Other media (voice, video, stickers…)
are not read: the user is asked to write instead.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.bot.api import Methods, TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from aiogram.utils.exceptions import CantParseEntities
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramOutput as _RasaTelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from riposte.privacy import pseudonymise
from riposte_rasa.channels.contacts import Directory, remember
from riposte_rasa.channels.evidence_files import (
    MAX_BYTES,
    NOT_RECEIVED,
    TOO_LARGE,
    Refused,
    keep,
    read_limited,
)
from riposte_rasa.channels.formatting import plain, telegram_html
from riposte_rasa.messages import message
from riposte_rasa.patches import tell_not_processed

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # Telegram counts UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes
GREET = "/greet"
ALLOWED_UPDATES = ["message", "callback_query"]
DOWNLOAD_TIMEOUT = 120  # seconds, for a file of 10 MB at most
_START = re.compile(r"^/start(?:@\w+)?(?:\s|$)")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 units, cut at a paragraph, line or space."""
    text = text.strip()
    parts: list[str] = []
    while _units(text) > limit:
        cut, used = 0, 0
        for char in text:
            used += _units(char)
            if used > limit:
                break
            cut += 1
        for separator in ("\n\n", "\n", " "):
            at = text.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _callback_data(button: dict[str, Any]) -> str:
    """The button's payload, which Telegram returns on a press (64 bytes at most)."""
    payload = str(button.get("payload") or button.get("title") or "")
    if payload.startswith("/") and "{" in payload:
        intent, _, entities = payload.partition("{")
        with contextlib.suppress(ValueError):
            compact = json.dumps(json.loads("{" + entities), separators=(",", ":"))
            payload = intent + compact
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA:
        return payload
    logger.warning("telegram: a button payload is over 64 bytes; its title is sent instead")
    title = str(button.get("title") or "").encode("utf-8")[:MAX_CALLBACK_DATA]
    return title.decode("utf-8", errors="ignore")


class TelegramOutput(_RasaTelegramOutput):
    """Rasa's Telegram output on a configurable Bot API server, with long texts split."""

    def __init__(self, access_token: str, api_url: str = DEFAULT_API_URL) -> None:
        # Rasa's __init__ only calls Bot(access_token), which cannot take the server.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))

    async def send_formatted(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One message, `**bold**` as bold (HTML); as plain text should Telegram refuse it."""
        try:
            await self.send_message(recipient_id, telegram_html(text), parse_mode="HTML", **kwargs)
        except CantParseEntities:
            logger.warning("telegram: a reply's formatting was refused; sent as plain text")
            await self.send_message(recipient_id, plain(text), **kwargs)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text):
            await self.send_formatted(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        keyboard = InlineKeyboardMarkup()
        for button in buttons:
            keyboard.row(
                InlineKeyboardButton(
                    str(button.get("title", "")), callback_data=_callback_data(button)
                )
            )
        parts = split_text(text) or ["…"]
        for part in parts[:-1]:
            await self.send_formatted(recipient_id, part)
        await self.send_formatted(recipient_id, parts[-1], reply_markup=keyboard)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """A document by URL (Telegram fetches it: PDF, ZIP or GIF only) or by file id."""
        await self.send_document(recipient_id, attachment)

    async def fetch_file(self, file_id: str, limit: int = MAX_BYTES) -> bytes:
        """A file the user sent: `getFile`, then its download URL on the same Bot API server.

        Raises `Refused` when it is over `limit` bytes or cannot be downloaded.
        """
        found = await self.get_file(file_id)
        if found.file_size and found.file_size > limit:
            raise Refused(TOO_LARGE)
        if not found.file_path:
            raise Refused(NOT_RECEIVED)
        url = self.get_file_url(found.file_path)
        async with self.session.get(url, timeout=DOWNLOAD_TIMEOUT) as answer:
            if answer.status >= 300:
                raise Refused(NOT_RECEIVED)
            return await read_limited(answer, limit)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Rasa's custom JSON, never to another chat; `document` may also be a file's content:

        `{"document": {"filename": "plainte.pdf", "data_base64": "..."}, "caption": "..."}`.
        """
        message = deepcopy(json_message)
        message.pop("chat_id", None)
        document = message.get("document")
        if isinstance(document, dict):
            try:
                data = base64.b64decode(str(document.get("data_base64", "")), validate=True)
            except (binascii.Error, ValueError):
                logger.error("telegram: a custom document is not valid base64; not sent")
                return
            filename = str(document.get("filename") or "document")
            message.pop("document")
            await self.send_document(
                recipient_id, InputFile(io.BytesIO(data), filename=filename), **message
            )
            return
        await super().send_custom_json(recipient_id, message, **kwargs)


class _ChatOutput(OutputChannel):
    """Sends every reply to one Telegram chat, whatever recipient id (pseudonym) Rasa gives."""

    def __init__(self, bot: TelegramOutput, chat_id: str) -> None:
        self.bot = bot
        self.chat_id = chat_id

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.bot.send_text_message(self.chat_id, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.bot.send_image_url(self.chat_id, image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.bot.send_attachment(self.chat_id, attachment, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.bot.send_text_with_buttons(self.chat_id, text, buttons, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.bot.send_custom_json(self.chat_id, json_message, **kwargs)


@dataclass(frozen=True)
class _SentFile:
    file_id: str
    name: str | None  # the document's file name (photos have none)
    size: int | None  # as announced by Telegram
    caption: str | None


@dataclass(frozen=True)
class _Incoming:
    chat_id: str
    text: str | None  # None: a message without text (photo, document, sticker…)
    callback_id: str | None = None
    file: _SentFile | None = None  # a photo or a document


class TelegramInput(InputChannel):
    """The webhook `/webhooks/telegram/webhook` (same URL as Rasa's channel)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        token = str(credentials.get("access_token") or "")
        secret = str(credentials.get("secret_token") or "")
        if not token or not secret:
            raise RasaException("Telegram: access_token and secret_token are both required.")
        return cls(
            token,
            secret,
            webhook_url=credentials.get("webhook_url") or None,
            verify=credentials.get("verify") or None,
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
        )

    def __init__(
        self,
        access_token: str,
        secret_token: str,
        webhook_url: str | None = None,
        verify: str | None = None,
        api_url: str = DEFAULT_API_URL,
        retry_first_delay: float = 1.0,
        retry_max_delay: float = 300.0,
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.verify = (verify or "").lstrip("@") or None
        self.api_url = api_url
        self.retry_first_delay = retry_first_delay
        self.retry_max_delay = retry_max_delay
        self._bot: TelegramOutput | None = None
        self._registration: asyncio.Task[bool] | None = None

    def bot(self) -> TelegramOutput:
        """The bot (one aiohttp session, opened lazily in the server's loop)."""
        if self._bot is None:
            self._bot = TelegramOutput(self.access_token, self.api_url)
        return self._bot

    def get_output_channel(self) -> OutputChannel:
        """For replies outside a webhook request (Rasa's HTTP API: a follow-up sent by
        `trigger_intent`): the recipient is a pseudonym, whose chat id the address book keeps
        (riposte_rasa/channels/contacts.py)."""
        return Directory(CHANNEL, lambda chat_id, _pseudonym: self.bot())

    def _scrub(self, text: str) -> str:
        for secret in (self.access_token, self.secret_token):
            text = text.replace(secret, "***")
        return text[:300]

    async def register_webhook(self) -> bool:
        """`setWebhook` until it succeeds, waiting longer after each failure (never raises)."""
        bot = self.bot()
        payload = {
            "url": self.webhook_url,
            "secret_token": self.secret_token,
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
        }
        delay, attempt = self.retry_first_delay, 0
        while True:
            attempt += 1
            try:
                await bot.request(Methods.SET_WEBHOOK, payload)
            except Exception as error:  # any failure is retried
                logger.warning(
                    "telegram: setWebhook failed (attempt %d, %s: %s); next try in %.0f s",
                    attempt,
                    type(error).__name__,
                    self._scrub(str(error)),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_delay)
            else:
                logger.info("telegram: webhook registered (attempt %d)", attempt)
                return True

    async def close(self) -> None:
        """Stop registering and close the aiogram session (in the loop that opened it)."""
        if self._registration is not None:
            self._registration.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._registration
            self._registration = None
        if self._bot is not None:
            # `Bot.close()` is deprecated in aiogram 2 (renamed API method): close the session.
            session = self._bot.session
            if session is not None:
                await session.close()

    def _authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), self.secret_token.encode("utf-8"))

    def _text(self, text: str) -> str:
        if _START.match(text):
            return GREET
        if self.verify:  # "/aide@RiposteBot" → "/aide"
            text = re.sub(rf"^(/\w+)@{re.escape(self.verify)}\b", r"\1", text, flags=re.I)
        return text

    def _incoming(self, update: Any) -> _Incoming | None:
        """The chat and text of an update, or None when there is nothing to answer."""
        if not isinstance(update, dict):
            return None
        query = update.get("callback_query")
        if isinstance(query, dict):
            chat = _private_chat(query.get("message"))
            data = query.get("data")
            if chat is None or not isinstance(data, str):
                return None
            return _Incoming(chat, data, callback_id=str(query.get("id", "")) or None)
        message = update.get("message")
        chat = _private_chat(message)
        if chat is None or not isinstance(message, dict):
            return None
        text = message.get("text")
        if isinstance(text, str):
            return _Incoming(chat, self._text(text))
        return _Incoming(chat, None, file=_sent_file(message))

    async def _file_message(
        self, bot: TelegramOutput, output: _ChatOutput, chat_id: str, sent: _SentFile
    ) -> str | None:
        """The message for Rasa once the file is in the inbox; None (after a reply) if not."""
        try:
            if sent.size is not None and sent.size > MAX_BYTES:
                raise Refused(TOO_LARGE)
            try:
                data = await bot.fetch_file(sent.file_id)
            except Refused:
                raise
            except Exception as error:  # Bot API error, network…
                logger.warning(
                    "telegram: a sent file could not be downloaded (%s)", type(error).__name__
                )
                raise Refused(NOT_RECEIVED) from None
            pseudonym = pseudonymise(CHANNEL, chat_id)
            return await keep(CHANNEL, pseudonym, data, sent.name, sent.caption)
        except Refused as refusal:
            await output.send_text_message(chat_id, str(refusal))
            return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("riposte_telegram", __name__)
        bot = self.bot()

        @telegram.listener("after_server_start")
        async def start_registration(_app: Any, _loop: Any) -> None:
            if self.webhook_url:
                self._registration = asyncio.ensure_future(self.register_webhook())
            else:
                logger.warning("telegram: no webhook_url; setWebhook is not called")

        @telegram.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.close()

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self._authentic(request):
                logger.warning("telegram: update refused (missing or wrong secret token)")
                return response.text("forbidden", status=403)
            incoming = self._incoming(request.json)
            if incoming is None:
                return response.text("success")
            output = _ChatOutput(bot, incoming.chat_id)
            if incoming.callback_id:
                try:  # stops the client's spinner; the press is handled even if this fails
                    await bot.answer_callback_query(incoming.callback_id)
                except Exception as error:
                    logger.warning(
                        "telegram: answerCallbackQuery failed (%s)", type(error).__name__
                    )
            try:
                text = incoming.text
                if incoming.file is not None:
                    text = await self._file_message(bot, output, incoming.chat_id, incoming.file)
                    if text is None:
                        return response.text("success")
                elif text is None:
                    await output.send_text_message(incoming.chat_id, message("telegram.only_text"))
                    return response.text("success")
                pseudonym = pseudonymise(CHANNEL, incoming.chat_id)
                await on_new_message(
                    UserMessage(
                        text,
                        output,
                        pseudonym,
                        input_channel=CHANNEL,
                        metadata=self.get_metadata(request),
                    )
                )
                # Follow-ups due for this conversation come later, addressed by pseudonym.
                await remember(CHANNEL, pseudonym, incoming.chat_id)
            except Exception as error:  # a 500 would make Telegram resend
                logger.error("telegram: handling an update failed (%s)", type(error).__name__)
                logger.debug("telegram: handling an update failed", exc_info=True)
                # Nothing of the message was kept (e.g. database unavailable): say so.
                with contextlib.suppress(Exception):
                    await tell_not_processed(output, incoming.chat_id)
            return response.text("success")

        return telegram


def _private_chat(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private" or "id" not in chat:
        return None
    return str(chat["id"])


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _area(photo: dict[str, Any]) -> int:
    return (_size(photo.get("width")) or 0) * (_size(photo.get("height")) or 0)


def _sent_file(message: dict[str, Any]) -> _SentFile | None:
    """The photo (its largest size) or the document of a message, if any."""
    caption = message.get("caption")
    caption = caption if isinstance(caption, str) else None
    photo = message.get("photo")
    if isinstance(photo, list):
        sizes = [p for p in photo if isinstance(p, dict) and p.get("file_id")]
        if sizes:
            best = max(sizes, key=_area)
            return _SentFile(str(best["file_id"]), None, _size(best.get("file_size")), caption)
    document = message.get("document")
    if isinstance(document, dict) and document.get("file_id"):
        name = document.get("file_name")
        return _SentFile(
            str(document["file_id"]),
            name if isinstance(name, str) else None,
            _size(document.get("file_size")),
            caption,
        )
    return None
