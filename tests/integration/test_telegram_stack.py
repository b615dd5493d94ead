"""Telegram through the real stack (`riposte serve` with TELEGRAM_*), against a fake Bot API
on loopback: the webhook is registered, an update gets a French reply to the real chat, a
forged update is refused, the tracker store holds the pseudonym only, and a photo the doctor
sends ends up in the case's evidence journal (channel → inbox → action server)."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools.waiting import wait_until
from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.channels.inbox import JPEG
from tests.integration.conftest import TELEGRAM_SECRET as SECRET
from tests.integration.conftest import Fakes, Stack
from tests.integration.fakes import ThreadedTelegram

CHAT_ID = 987654321


@pytest.fixture(scope="module")
def telegram(stacks: dict[str, Stack], fakes: Fakes) -> tuple[Stack, ThreadedTelegram]:
    """The shared token stack, started with TELEGRAM_* pointing at the fake (conftest.py)."""
    return stacks["token"], fakes.telegram


def post_update(stack: Stack, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        stack.url("/webhooks/telegram/webhook"), data=json.dumps(update).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def update(update_id: int, text: str) -> dict[str, Any]:
    person = {"id": CHAT_ID, "is_bot": False, "first_name": "Camille"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_764_000_000,
            "chat": {"id": CHAT_ID, "type": "private", "first_name": "Camille"},
            "from": person,
            "text": text,
        },
    }


def test_webhook_is_registered_with_the_secret(telegram: tuple[Stack, ThreadedTelegram]) -> None:
    _stack, fake = telegram
    call = fake.wait_for("setWebhook")[0]
    assert call.fields["url"] == "https://riposte.example.org/webhooks/telegram/webhook"
    assert call.fields["secret_token"] == SECRET


def test_an_update_gets_a_french_reply_and_only_the_pseudonym_is_kept(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    stack, fake = telegram
    before = len(fake.api.of("sendMessage"))  # the fake is shared with other modules' chats
    assert post_update(stack, update(1, "/start"), SECRET) == 200
    sent = fake.wait_for("sendMessage", count=before + 1)[before:]
    assert str(sent[0].fields["chat_id"]) == str(CHAT_ID)
    assert "Riposte" in sent[0].fields["text"]
    keyboard = sent[-1].json_field("reply_markup")["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "/request_help"
    tracker = (Path(stack.var_dir) / "tracker.db").read_bytes()
    assert str(CHAT_ID).encode() not in tracker
    assert stack.pseudonym(str(CHAT_ID), channel="telegram").encode() in tracker


def test_a_forged_update_is_refused_and_nothing_is_sent(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    stack, fake = telegram
    before = len(fake.api.of("sendMessage"))
    assert post_update(stack, update(2, "bonjour"), None) == 403
    assert post_update(stack, update(3, "bonjour"), "wrong-secret-0000000000") == 403
    assert len(fake.api.of("sendMessage")) == before


def callback(update_id: int, data: str) -> dict[str, Any]:
    person = {"id": CHAT_ID, "is_bot": False, "first_name": "Camille"}
    chat = {"id": CHAT_ID, "type": "private", "first_name": "Camille"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb-{update_id}",
            "from": person,
            "chat_instance": "1",
            "data": data,
            "message": {"message_id": 1, "date": 1_764_000_000, "chat": chat, "text": "…"},
        },
    }


def test_the_complaint_arrives_as_documents(telegram: tuple[Stack, ThreadedTelegram]) -> None:
    stack, fake = telegram
    said = [
        "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
        "je suis généraliste libérale",
        "rédiger ma plainte",
        "oui",  # to the case file the complaint is kept in
        "Camille Zorglubin",
        "12/03/1978",
        "passer",
        "12 rue des Lilas",
        "44000 Nantes",
        "la même",
        "Depuis le 2 novembre, des dizaines de comptes me traitent d'escroc.",
        "« cette généraliste est une escroc »",
        "il y a une semaine",
    ]
    for number, text in enumerate(said, start=10):
        assert post_update(stack, update(number, text), SECRET) == 200
    summary = fake.api.of("sendMessage")[-1]
    assert "Est-ce juste ?" in summary.fields["text"]
    before = len(fake.api.of("sendDocument"))  # the fake is shared with other modules' chats
    assert post_update(stack, callback(30, "/affirm"), SECRET) == 200
    documents = fake.wait_for("sendDocument", count=before + 2)[before:]
    names = sorted(call.files["document"][0] for call in documents)
    assert names == ["plainte-procureur.docx", "plainte-procureur.pdf"]
    pdf = next(c.files["document"][1] for c in documents if c.files["document"][0].endswith("pdf"))
    assert pdf.startswith(b"%PDF")
    assert all(str(call.fields["chat_id"]) == str(CHAT_ID) for call in documents)


def test_a_photo_sent_is_filed_in_the_case_with_its_fingerprint(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    stack, fake = telegram
    other_chat = CHAT_ID + 1  # a doctor without a case yet
    file_id = fake.api.add_file(JPEG)
    photo = update(40, "")
    del photo["message"]["text"]
    photo["message"]["chat"]["id"] = photo["message"]["from"]["id"] = other_chat
    photo["message"]["photo"] = [
        {"file_id": file_id, "file_unique_id": "p1", "width": 1280, "height": 960}
    ]
    photo["message"]["caption"] = "Avis Google du 12/11"
    before = len(fake.api.of("sendMessage"))
    assert post_update(stack, photo, SECRET) == 200
    # No case yet: the file waits for the doctor's yes to one (a no would delete it).
    offer = fake.wait_for("sendMessage", count=before + 1)[before:]
    assert any("dossier chiffré" in c.fields["text"] for c in offer)
    pressed = callback(41, "/open_case")
    pressed["callback_query"]["from"]["id"] = other_chat
    pressed["callback_query"]["message"]["chat"]["id"] = other_chat
    before = len(fake.api.of("sendMessage"))
    assert post_update(stack, pressed, SECRET) == 200

    sent = fake.wait_for("sendMessage", count=before + 2)[before:]
    texts = [c.fields["text"] for c in sent if str(c.fields["chat_id"]) == str(other_chat)]
    fingerprint = hashlib.sha256(JPEG).hexdigest()
    saved = next(t for t in texts if "Pièce n° 1" in t)
    assert "reçu par Telegram" in saved and fingerprint[:16] in saved
    assert "ajouter une preuve" in saved
    code = next(m.group(0) for t in texts if (m := re.search(r"RIP-[0-9A-Z]{4}-[0-9A-Z]{2}", t)))
    with CaseRepository(StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(stack.var_dir)})) as repo:
        (item,) = repo.read_case(code, actor="test").evidence
        assert item.item.sha256 == fingerprint
        assert item.item.excerpt == "Avis Google du 12/11"
        assert repo.evidence_content(code, item.number) == JPEG
    assert not any(b"Avis Google" in p.read_bytes() for p in stack.var_dir.rglob("*.db"))


def test_the_advice_is_three_messages_and_the_ladder_comes_on_a_button(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    """Short on a phone: after a complete description, the advice is the recommendation (the
    other rungs as buttons), the deadline that matters most and the first step; the ladder
    comes when its button is pressed."""
    stack, fake = telegram
    chat = CHAT_ID + 2
    message = update(
        50,
        "Depuis le 4 novembre des dizaines de comptes me traitent de boucher sur "
        "Instagram, je suis chirurgienne libérale",
    )
    message["message"]["chat"]["id"] = message["message"]["from"]["id"] = chat

    def to_chat() -> list[Any]:
        return [c for c in fake.api.of("sendMessage") if str(c.fields["chat_id"]) == str(chat)]

    assert post_update(stack, message, SECRET) == 200
    wait_until(
        lambda: any("Première étape" in c.fields["text"] for c in to_chat()),
        "the first step sent to the chat",
    )
    sent = to_chat()
    start = next(i for i, c in enumerate(sent) if "Ma recommandation" in c.fields["text"])
    advice = sent[start:]
    assert len(advice) == 3
    recommendation, deadline, step = advice
    assert recommendation.fields["text"].count("Réaction offensive") == 1
    options = [
        b["callback_data"]
        for row in recommendation.json_field("reply_markup")["inline_keyboard"]
        for b in row
    ]
    assert "/show_ladder" in options and "/draft_complaint" not in options
    assert "il vous reste" in deadline.fields["text"]
    assert "Première étape" in step.fields["text"]

    pressed = callback(51, "/show_ladder")
    pressed["callback_query"]["from"]["id"] = chat
    pressed["callback_query"]["message"]["chat"]["id"] = chat
    count = len(fake.api.of("sendMessage"))
    assert post_update(stack, pressed, SECRET) == 200
    ladder = fake.wait_for("sendMessage", count=count + 1)[-1]
    assert str(ladder.fields["chat_id"]) == str(chat)
    assert ladder.fields["text"].count("← recommandé") == 1
