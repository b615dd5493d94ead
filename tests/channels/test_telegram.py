"""Our Telegram connector, served by Sanic on loopback, against a fake Bot API on loopback.

The channel is built from credentials and mounted the way `rasa run` does it
(`rasa.core.channels.channel.register`), with a fake agent instead of Rasa's: it records the
messages and answers through the output channel like Rasa's processor does (`send_response`).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from devtools.ports import free_port
from devtools.waiting import wait_until_async
from riposte.privacy import MasterKey, decode_key, generate_key_text, pseudonymise
from riposte.settings import NOT_PROCESSED_MESSAGE
from riposte_rasa.channels.evidence_files import (
    MAX_BYTES,
    NOT_RECEIVED,
    TOO_LARGE,
    WRONG_TYPE,
    reply,
)
from riposte_rasa.channels.telegram import (
    GREET,
    MAX_TEXT,
    SECRET_HEADER,
    TelegramInput,
    split_text,
)
from riposte_rasa.messages import message
from tests.channels.fake_bot_api import FakeBotAPI
from tests.channels.inbox import (
    JPEG,
    PDF,
    TEXT,
    file_in_new_case,
    inbox_count,
    reference,
)
from tests.channels.sanic_app import start_served
from tests.channels.sanic_app import stop_served as shutdown

TOKEN = "123456789:AAF-test_token-0123456789abcdefghijkl"
SECRET = "test-secret_0123456789"
CHAT_ID = 424242
GREETING = "Bonjour, je suis Riposte. Que se passe-t-il ?"
BUTTONS = [
    {"title": "Un avis en ligne", "payload": '/inform{"choice": "platforms=google_reviews"}'},
    {"title": "Un message privé", "payload": "/inform_private"},
]


@dataclass
class FakeAgent:
    """Stands for Rasa's agent: records each message and answers with `reply`."""

    received: list[UserMessage] = field(default_factory=list)
    reply: dict[str, Any] = field(
        default_factory=lambda: {"text": GREETING, "buttons": [dict(b) for b in BUTTONS]}
    )

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, dict(self.reply))


@dataclass
class Harness:
    api: FakeBotAPI
    channel: TelegramInput
    agent: FakeAgent
    webhook: str
    http: aiohttp.ClientSession

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self.http.post(self.webhook, json=update, headers=headers) as answer:
            return answer.status


def text_update(text: str, chat_id: int = CHAT_ID, update_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10,
            "date": 1700000000,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Claire"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Claire"},
            "text": text,
        },
    }


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps start in one process (Sanic 21.12 rewrites its code on start-up)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, fresh_store: None) -> MasterKey:
    text = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", text)
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path))
    return MasterKey(decode_key(text) or b"")


async def serve(channel: TelegramInput, agent: FakeAgent) -> tuple[Any, str]:
    server, base = await start_served(channel, "telegram_test", agent)
    return server, f"{base}/webhooks/telegram/webhook"


def make_channel(api_url: str, **extra: Any) -> TelegramInput:
    credentials = {
        "access_token": TOKEN,
        "verify": "RiposteBot",
        "webhook_url": "https://riposte.example.org/webhooks/telegram/webhook",
        "secret_token": SECRET,
        "api_url": api_url,
    }
    channel = TelegramInput.from_credentials(credentials)
    assert isinstance(channel, TelegramInput)
    for name, value in extra.items():
        setattr(channel, name, value)
    return channel


@pytest.fixture
async def harness(key: MasterKey) -> AsyncIterator[Harness]:
    api = FakeBotAPI()
    await api.start()
    channel = make_channel(api.url)
    agent = FakeAgent()
    server, webhook = await serve(channel, agent)
    async with aiohttp.ClientSession() as http:
        # The webhook is registered once the server has started, in its loop.
        await api.wait_for("setWebhook")
        yield Harness(api, channel, agent, webhook, http)
    await shutdown(server)
    await api.stop()


async def test_webhook_is_registered_with_the_secret_on_the_configured_api(
    harness: Harness,
) -> None:
    (call,) = harness.api.of("setWebhook")
    assert call.token == TOKEN
    assert call.fields["url"] == "https://riposte.example.org/webhooks/telegram/webhook"
    assert call.fields["secret_token"] == SECRET
    assert set(call.json_field("allowed_updates")) == {"message", "callback_query"}


async def test_a_genuine_update_is_answered_in_the_real_chat_with_an_inline_keyboard(
    harness: Harness, key: MasterKey
) -> None:
    assert await harness.post(text_update("bonjour, on m'insulte sur Google")) == 200

    (message,) = harness.agent.received
    assert message.text == "bonjour, on m'insulte sur Google"
    assert message.sender_id == pseudonymise("telegram", str(CHAT_ID), key)
    assert str(CHAT_ID) not in message.sender_id
    assert message.input_channel == "telegram"

    (sent,) = harness.api.of("sendMessage")
    assert sent.token == TOKEN
    assert sent.fields["chat_id"] == str(CHAT_ID)
    assert sent.fields["text"] == GREETING
    keyboard = sent.json_field("reply_markup")["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in keyboard] == [
        [("Un avis en ligne", '/inform{"choice":"platforms=google_reviews"}')],
        [("Un message privé", "/inform_private")],
    ]
    assert not harness.api.of("getMe")


@pytest.mark.parametrize("secret", [None, "", "wrong-secret_0123456789", SECRET + "x"])
async def test_a_forged_update_is_refused_and_nothing_is_sent(
    harness: Harness, secret: str | None
) -> None:
    assert await harness.post(text_update("bonjour"), secret=secret) == 403
    assert harness.agent.received == []
    assert [c.method for c in harness.api.calls] == ["setWebhook"]


async def test_start_reaches_rasa_as_the_greet_intent(harness: Harness) -> None:
    assert await harness.post(text_update("/start")) == 200
    assert await harness.post(text_update("/start@RiposteBot", update_id=2)) == 200
    assert [m.text for m in harness.agent.received] == [GREET, GREET] == ["/greet", "/greet"]


async def test_a_button_press_reaches_rasa_as_its_payload(harness: Harness, key: MasterKey) -> None:
    update = {
        "update_id": 7,
        "callback_query": {
            "id": "cbq-1",
            "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Claire"},
            "chat_instance": "1",
            "data": "/inform_private",
            "message": text_update(GREETING)["message"],
        },
    }
    assert await harness.post(update) == 200
    (message,) = harness.agent.received
    assert message.text == "/inform_private"
    assert message.sender_id == pseudonymise("telegram", str(CHAT_ID), key)
    (answered,) = harness.api.of("answerCallbackQuery")
    assert answered.fields["callback_query_id"] == "cbq-1"
    assert harness.api.of("sendMessage")[0].fields["chat_id"] == str(CHAT_ID)


async def test_updates_without_a_message_are_ignored_with_200(harness: Harness) -> None:
    no_message = {"update_id": 3, "my_chat_member": {"chat": {"id": CHAT_ID, "type": "private"}}}
    group = text_update("bonjour")
    group["message"]["chat"] = {"id": -100123, "type": "group", "title": "Cabinet"}
    assert await harness.post(no_message) == 200
    assert await harness.post(group) == 200
    assert harness.agent.received == []
    assert [c.method for c in harness.api.calls] == ["setWebhook"]


def media_update(caption: str | None = None, update_id: int = 1, **media: Any) -> dict[str, Any]:
    """A private message without text, with `photo`, `document`, `sticker`… and a caption."""
    update = text_update("", update_id=update_id)
    del update["message"]["text"]
    update["message"].update(media)
    if caption is not None:
        update["message"]["caption"] = caption
    return update


def photo_sizes(api: FakeBotAPI, content: bytes) -> list[dict[str, Any]]:
    """Telegram's PhotoSize list: thumbnails first; only the largest is the real photo here."""
    small = api.add_file(b"\xff\xd8\xff thumbnail")
    large = api.add_file(content)
    return [
        {"file_id": small, "file_unique_id": "s", "width": 90, "height": 67, "file_size": 14},
        {"file_id": large, "file_unique_id": "l", "width": 1280, "height": 960},
    ]


async def test_a_photo_is_sealed_in_the_inbox_and_rasa_gets_its_reference(
    harness: Harness, key: MasterKey
) -> None:
    update = media_update("Avis Google du 12/11", photo=photo_sizes(harness.api, JPEG))
    assert await harness.post(update) == 200

    (message,) = harness.agent.received
    ref = reference(message.text or "")
    pseudonym = pseudonymise("telegram", str(CHAT_ID), key)
    assert message.sender_id == pseudonym and message.input_channel == "telegram"
    # The largest size was fetched, from the configured server, with the bot's token.
    (get_file,) = harness.api.of("getFile")
    assert get_file.fields["file_id"] == update["message"]["photo"][1]["file_id"]
    assert harness.api.downloads == [(TOKEN, "photos/file_2.jpg")]
    assert inbox_count() == 1
    record, content = file_in_new_case(ref, pseudonym)
    assert content == JPEG
    assert record.item.excerpt == "Avis Google du 12/11"
    assert record.item.file is not None and record.item.file.startswith("telegram-")
    assert record.item.file.endswith("-photo.jpg")
    assert inbox_count() == 0
    # Only Rasa's answer was sent: no refusal.
    assert [c.fields["text"] for c in harness.api.of("sendMessage")] == [GREETING]


async def test_a_pdf_document_keeps_its_name_and_type_is_read_from_the_content(
    harness: Harness, key: MasterKey
) -> None:
    document = {
        "file_id": harness.api.add_file(PDF, "pdf"),
        "file_unique_id": "d",
        "file_name": "Capture écran.jpg",  # the name says image, the content is a PDF
        "mime_type": "image/jpeg",
        "file_size": len(PDF),
    }
    assert await harness.post(media_update(document=document)) == 200
    (message,) = harness.agent.received
    record, content = file_in_new_case(
        reference(message.text or ""), pseudonymise("telegram", str(CHAT_ID), key)
    )
    assert content == PDF
    assert record.item.file is not None and record.item.file.endswith("-Capture-ecran.pdf")
    assert record.item.excerpt is None


async def test_a_file_of_another_type_is_refused_and_nothing_is_kept(harness: Harness) -> None:
    document = {
        "file_id": harness.api.add_file(TEXT, "exe"),
        "file_unique_id": "x",
        "file_name": "capture.png",
        "mime_type": "image/png",  # announced as an image: the content decides
    }
    assert await harness.post(media_update(document=document)) == 200
    assert harness.agent.received == []
    assert inbox_count() == 0
    (sent,) = harness.api.of("sendMessage")
    assert sent.fields["text"] == reply(WRONG_TYPE) and sent.fields["chat_id"] == str(CHAT_ID)


async def test_a_file_over_10_mb_is_refused_before_or_while_downloading(
    harness: Harness,
) -> None:
    big = b"\xff\xd8\xff" + b"x" * MAX_BYTES
    announced = {"file_id": harness.api.add_file(big), "file_unique_id": "b"}
    announced["file_size"] = len(big)
    assert await harness.post(media_update(document=announced)) == 200
    assert harness.api.of("getFile") == [] and harness.api.downloads == []

    harness.api.report_sizes = False  # getFile without file_size: cut while downloading
    silent = {"file_id": announced["file_id"], "file_unique_id": "b"}
    assert await harness.post(media_update(document=silent, update_id=2)) == 200
    assert len(harness.api.downloads) == 1
    assert harness.agent.received == []
    assert inbox_count() == 0
    assert [c.fields["text"] for c in harness.api.of("sendMessage")] == [reply(TOO_LARGE)] * 2


async def test_a_file_that_cannot_be_fetched_gets_a_reply(harness: Harness) -> None:
    gone = {"file_id": "unknown-file-id", "file_unique_id": "g", "width": 10, "height": 10}
    assert await harness.post(media_update(photo=[gone])) == 200
    assert harness.agent.received == []
    (sent,) = harness.api.of("sendMessage")
    assert sent.fields["text"] == reply(NOT_RECEIVED)


async def test_a_sticker_gets_a_notice_and_does_not_reach_rasa(harness: Harness) -> None:
    sticker = {"file_id": "S", "file_unique_id": "s", "width": 512, "height": 512}
    assert await harness.post(media_update(sticker=sticker)) == 200
    assert harness.agent.received == []
    (sent,) = harness.api.of("sendMessage")
    assert sent.fields["text"] == message("telegram.only_text")
    assert harness.api.of("getFile") == []


async def test_a_long_reply_is_split_under_telegram_limit(harness: Harness) -> None:
    first = "Premier paragraphe. " * 150  # 3000 characters
    second = "Second paragraphe, é. " * 91  # 2002 characters
    long_text = first.strip() + "\n\n" + second.strip()
    assert len(long_text) > 5000
    harness.agent.reply = {"text": long_text}
    assert await harness.post(text_update("explique-moi tout")) == 200
    sent = harness.api.of("sendMessage")
    assert len(sent) == 2
    assert [c.fields["text"] for c in sent] == [first.strip(), second.strip()]
    assert all(c.fields["chat_id"] == str(CHAT_ID) for c in sent)


async def test_a_long_reply_with_buttons_puts_the_keyboard_on_the_last_part(
    harness: Harness,
) -> None:
    harness.agent.reply = {"text": "x" * 5000, "buttons": [dict(b) for b in BUTTONS]}
    assert await harness.post(text_update("bonjour")) == 200
    sent = harness.api.of("sendMessage")
    assert [len(c.fields["text"]) for c in sent] == [MAX_TEXT, 5000 - MAX_TEXT]
    assert "reply_markup" not in sent[0].fields and "reply_markup" in sent[1].fields


async def test_documents_are_sent_to_the_real_chat(harness: Harness) -> None:
    pdf = b"%PDF-1.4 courrier"
    harness.agent.reply = {
        "custom": {
            "document": {"filename": "plainte.pdf", "data_base64": base64.b64encode(pdf).decode()},
            "caption": "Votre courrier",
            "chat_id": 1,  # a payload never chooses the chat
        }
    }
    assert await harness.post(text_update("mon courrier")) == 200
    harness.agent.reply = {"attachment": "https://riposte.example.org/lettres/abc.pdf"}
    assert await harness.post(text_update("encore", update_id=2)) == 200
    upload, by_url = harness.api.of("sendDocument")
    assert upload.fields["chat_id"] == str(CHAT_ID) and upload.fields["caption"] == "Votre courrier"
    assert upload.files["document"] == ("plainte.pdf", pdf)
    assert by_url.fields == {
        "chat_id": str(CHAT_ID),
        "document": "https://riposte.example.org/lettres/abc.pdf",
    }


async def test_a_failing_agent_still_answers_200(harness: Harness) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("boom")

    harness.agent.handle_message = broken  # type: ignore[method-assign]
    assert await harness.post(text_update("bonjour")) == 200


async def test_start_up_survives_an_unreachable_api_and_retries(
    key: MasterKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="riposte_rasa.channels.telegram")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    channel = make_channel(dead, retry_first_delay=0.01, retry_max_delay=0.02)
    agent = FakeAgent()
    server, webhook = await serve(channel, agent)  # does not raise
    index = webhook.rsplit("/", 1)[0] + "/"

    def failures() -> int:
        return sum("setWebhook failed" in r.getMessage() for r in caplog.records)

    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_async(
                lambda: failures() >= 3, lambda: f"3 setWebhook failures logged ({failures()})"
            )
            async with http.get(index) as answer:
                assert answer.status == 200  # the server kept serving meanwhile
        assert channel._registration is not None and not channel._registration.done()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert TOKEN not in logged and TOKEN.split(":")[1] not in logged and SECRET not in logged
    finally:
        await shutdown(server)
    assert channel._registration is None  # the retry loop is stopped with the server


async def test_registration_retries_until_telegram_accepts_then_replies_work(
    key: MasterKey,
) -> None:
    api = FakeBotAPI(fail_set_webhook=2)
    await api.start()
    channel = make_channel(api.url, retry_first_delay=0.01, retry_max_delay=0.05)
    agent = FakeAgent()
    server, webhook = await serve(channel, agent)
    try:
        await api.wait_for("setWebhook", count=3)
        assert api.webhook["secret_token"] == SECRET
        assert channel._registration is not None
        assert await channel._registration is True
        async with aiohttp.ClientSession() as http:
            async with http.post(
                webhook, json=text_update("bonjour"), headers={SECRET_HEADER: SECRET}
            ) as answer:
                assert answer.status == 200
        # Same loop, same aiogram session: no "Event loop is closed" (sessions are per loop).
        assert api.of("sendMessage")[0].fields["text"] == GREETING
    finally:
        await shutdown(server)
        await api.stop()
    assert channel._bot is not None and channel._bot._session is not None
    assert channel._bot._session.closed


def test_credentials_need_the_token_and_the_secret() -> None:
    from rasa.shared.exceptions import RasaException

    with pytest.raises(RasaException):
        TelegramInput.from_credentials({"access_token": TOKEN})
    with pytest.raises(RasaException):
        TelegramInput.from_credentials({"secret_token": SECRET})


def test_split_text_counts_utf16_units_and_keeps_every_character() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(len(p.encode("utf-16-le")) // 2 <= MAX_TEXT for p in parts)
    assert split_text("  court  ") == ["court"]
    assert split_text("") == []
    words = " ".join(["mot"] * 2000)  # 7999 characters, cut at spaces
    assert " ".join(split_text(words)) == words


def test_generated_payloads_are_valid_json() -> None:
    from riposte_rasa.channels.telegram import _callback_data

    data = _callback_data(BUTTONS[0])
    assert json.loads(data.partition("{")[1] + data.partition("{")[2]) == {
        "choice": "platforms=google_reviews"
    }
    too_long = {"title": "Autre", "payload": "/inform" + "x" * 80}
    assert _callback_data(too_long) == "Autre"


async def test_bold_is_sent_as_telegram_html_and_typed_markup_as_text(harness: Harness) -> None:
    harness.agent.reply = {"text": "**Prochaine étape : porter plainte**\n« <b>x</b> & {{ y }} »"}
    assert await harness.post(text_update("et ensuite ?")) == 200
    (sent,) = harness.api.of("sendMessage")
    assert sent.fields["parse_mode"] == "HTML"
    assert sent.fields["text"] == (
        "<b>Prochaine étape : porter plainte</b>\n« &lt;b&gt;x&lt;/b&gt; &amp; {{ y }} »"
    )


async def test_refused_formatting_falls_back_to_plain_text(harness: Harness) -> None:
    harness.api.refuse_html = True
    harness.agent.reply = {"text": "**Ma recommandation** : rester neutre"}
    assert await harness.post(text_update("que faire ?")) == 200
    first, second = harness.api.of("sendMessage")
    assert first.fields["parse_mode"] == "HTML"
    assert "parse_mode" not in second.fields
    assert second.fields["text"] == "Ma recommandation : rester neutre"


async def test_a_message_rasa_could_not_process_is_answered_with_the_french_notice(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(message: UserMessage) -> None:
        raise OSError("database unreachable")

    monkeypatch.setattr(harness.agent, "handle_message", failing)
    assert await harness.post(text_update("on m'insulte sur Google")) == 200
    (sent,) = harness.api.of("sendMessage")
    assert sent.fields["chat_id"] == str(CHAT_ID)
    assert sent.fields["text"] == NOT_PROCESSED_MESSAGE
