"""Each rung's path on a messaging app (Telegram, against a fake Bot API on loopback), from the
first description to its deliverable: neutre (the plan), préventive (the checklist),
pacifique (a reply reviewed in the chat), défensive (the notice, received as files). The
offensive rung (the complaint, received as files) is tests/integration/test_telegram_stack.py."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.waiting import wait_until
from tests.integration.conftest import TELEGRAM_SECRET, Fakes, Stack
from tests.integration.fakes import ThreadedTelegram
from tests.integration.test_telegram_stack import CHAT_ID, callback, post_update, update


@pytest.fixture(scope="module")
def telegram(stacks: dict[str, Stack], fakes: Fakes) -> tuple[Stack, ThreadedTelegram]:
    """The shared token stack, started with TELEGRAM_* pointing at the fake (conftest.py)."""
    return stacks["token"], fakes.telegram


class Chat:
    """One doctor's Telegram chat: what she types or presses, and what the bot sends her."""

    def __init__(self, telegram: tuple[Stack, ThreadedTelegram], chat: int, first: int) -> None:
        self.stack, self.fake = telegram
        self.chat = chat
        self.number = first

    def sent(self) -> list[Any]:
        return [
            c for c in self.fake.api.of("sendMessage") if str(c.fields["chat_id"]) == str(self.chat)
        ]

    def _post(self, message: dict[str, Any], expected: str) -> str:
        """Post an update; the text the bot sent back once `expected` is in it."""
        before = len(self.sent())
        assert post_update(self.stack, message, TELEGRAM_SECRET) == 200

        def answer() -> str:
            return "\n".join(c.fields["text"] for c in self.sent()[before:])

        wait_until(lambda: expected in answer(), f"« {expected} » sent to the chat")
        return answer()

    def say(self, text: str, expected: str) -> str:
        self.number += 1
        message = update(self.number, text)
        message["message"]["chat"]["id"] = message["message"]["from"]["id"] = self.chat
        return self._post(message, expected)

    def press(self, payload: str, expected: str) -> str:
        self.number += 1
        pressed = callback(self.number, payload)
        pressed["callback_query"]["from"]["id"] = self.chat
        pressed["callback_query"]["message"]["chat"]["id"] = self.chat
        return self._post(pressed, expected)

    def buttons(self) -> list[str]:
        """The payloads of the buttons under the last message."""
        markup = self.sent()[-1].json_field("reply_markup") or {}
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def test_neutre_preventive_and_pacifique_on_telegram(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    chat = Chat(telegram, CHAT_ID + 30, 400)
    chat.say(
        "Le 28 novembre, un patient a laissé un avis une étoile sur Google en écrivant que je "
        "suis toujours en retard, je suis généraliste libéral",
        "Première étape",
    )
    # Neutre: the plan, and a way back when it starts again.
    plan = chat.say("je préfère ne rien faire", "Si cela recommence ou s'aggrave")
    assert "Ne répondez pas" in plan and "preuves" in plan
    # Préventive: the checklist with its sources.
    checklist = chat.say("comment me protéger à l'avenir ?", "Créez une alerte sur votre nom")
    assert "assureur" in checklist and "Sources" in checklist
    # Pacifique: a draft reviewed in the chat, with a compliant proposal.
    chat.say("je veux répondre", "projet de réponse")
    review = chat.say(
        "Madame Lefèvre, votre dépression ne justifie pas ce ton, je vous ai soignée correctement.",
        "Proposition",
    )
    assert "Lefèvre" in review and "secret" in review
    accepted = chat.press("/affirm", "Voici la réponse proposée")
    proposal = accepted.split("telle quelle :")[1]
    assert "Lefèvre" not in proposal and "dépression" not in proposal


def test_defensive_the_notice_arrives_as_files_on_telegram(
    telegram: tuple[Stack, ThreadedTelegram],
) -> None:
    chat = Chat(telegram, CHAT_ID + 31, 500)
    _stack, fake = telegram
    chat.say(
        "Le 3 novembre, un patient a publié sur ma fiche Google un avis public qui dit que je "
        "suis un charlatan et un escroc. Je suis généraliste libéral, c'est un seul avis.",
        "Première étape",
    )
    chat.say("je veux signaler l'avis à Google", "dossier chiffré")
    assert chat.buttons() == ["/open_case", "/decline_case"]
    opened = chat.press("/open_case", "figurer sur la notification")
    assert "Code du dossier" in opened
    for said, expected in (
        ("Camille Zorglubin", "adresse électronique"),
        ("camille.zorglubin@exemple.fr", "en quoi c'est faux ou insultant"),
        ("Un patient a publié un avis qui me traite de charlatan et d'escroc.", "adresse exacte"),
        ("https://maps.app.goo.gl/AbCd123", "propos exacts"),
        ("« ce charlatan est un escroc »", "date affichée"),
        ("le 3 novembre", "Est-ce juste ?"),
    ):
        chat.say(said, expected)
    assert chat.buttons() == ["/affirm", "/deny"]
    before = len(fake.api.of("sendDocument"))
    chat.press("/affirm", "Votre notification est prête")
    documents = fake.wait_for("sendDocument", count=before + 2)[before:]
    assert sorted(c.files["document"][0] for c in documents) == [
        "notification-plateforme.docx",
        "notification-plateforme.pdf",
    ]
    assert all(str(c.fields["chat_id"]) == str(chat.chat) for c in documents)
