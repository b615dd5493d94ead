"""The NLU component that sends a letter request naming another letter to `request_letter`."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from riposte_rasa.nlu.letter_intent import LetterIntentClassifier


def classify(text: str, intent: str) -> dict[str, Any]:
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "request_letter", "confidence": 0.1}]
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": ranking,
        }
    )
    (out,) = LetterIntentClassifier().process([message])
    return out.data


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je veux porter plainte à la CNIL", "draft_complaint"),
        ("rédige ma plainte cnil", "draft_complaint"),
        ("signaler au site pour qu'il efface mes données (RGPD)", "request_platform_notice"),
        ("écrire au journal pour mon droit de réponse", "request_platform_notice"),
        ("plainte et protection fonctionnelle", "draft_complaint"),
        ("je voudrais exercer mon droit de réponse", "nlu_fallback"),
        ("je voudrais exercer mon droit de réponse", "request_reply_help"),
    ],
)
def test_a_request_naming_another_letter_goes_to_it(text: str, intent: str) -> None:
    data = classify(text, intent)
    assert data["intent"] == {"name": "request_letter", "confidence": 1.0}
    assert [r["name"] for r in data["intent_ranking"]] == ["request_letter", intent]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("rédigez ma plainte au procureur", "draft_complaint"),  # no other letter named
        ("ma plainte contre l'auteur", "draft_complaint"),  # « l'auteur » is no proof
        ("c'est quoi la protection fonctionnelle ?", "faq"),  # a question stays one
        ("le site n'a pas répondu, et la CNIL ?", "platform_refused"),
        ('/draft_complaint{"choice": "cnil"}', "draft_complaint"),  # a button's payload
    ],
)
def test_other_messages_keep_their_intent(text: str, intent: str) -> None:
    assert classify(text, intent)["intent"]["name"] == intent
