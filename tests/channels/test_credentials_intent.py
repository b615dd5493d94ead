"""The NLU component that reads a not-understood message with a code and a secret as a resume."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from riposte.store.codes import generate_code, generate_passphrase
from riposte_rasa.nlu.credentials_intent import CredentialsIntentClassifier

CODE, SECRET = generate_code(), generate_passphrase()
RESUME_TEXT = f"reprendre mon dossier {CODE} {SECRET.replace('-', ' ')}"


def message(text: str, intent: str, confidence: float = 0.45) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "resume_case", "confidence": 0.3},
    ]
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
        }
    )


def classify(m: Message) -> dict[str, Any]:
    (out,) = CredentialsIntentClassifier().process([m])
    return out.data


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope", "describe_situation"])
def test_code_and_secret_read_as_another_intent_become_a_resume(intent: str) -> None:
    data = classify(message(RESUME_TEXT, intent))
    assert data["intent"] == {"name": "resume_case", "confidence": 1.0}
    names = [r["name"] for r in data["intent_ranking"]]
    assert names == ["resume_case", intent]  # listed once, first


def test_a_fallback_with_more_words_is_still_a_resume() -> None:
    text = f"voilà enfin ce que vous m'aviez donné hier soir {CODE} {SECRET}"
    assert classify(message(text, "nlu_fallback"))["intent"]["name"] == "resume_case"
    assert classify(message(text, "out_of_scope"))["intent"]["name"] == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (RESUME_TEXT, "resume_case"),
        # A description with « RIP … » and common words that happen to be in the word list.
        (
            "RIP dans la maison : il écrit partout que le docteur va finir sous la source, "
            "vent orange bureau signal",
            "describe_situation",
        ),
        (f"reprendre mon dossier {CODE}", "nlu_fallback"),  # no secret
        (f"reprendre mon dossier {SECRET.replace('-', ' ')}", "nlu_fallback"),  # no code
        (f'/inform{{"x": "{CODE} {SECRET}"}}', "nlu_fallback"),  # a payload, not typed text
        ("", "nlu_fallback"),
    ],
    # Fixed names: the code and secret are drawn at import, and parallel workers (pytest-xdist)
    # must collect the same tests.
    ids=["resume", "rip-in-a-description", "no-secret", "no-code", "payload", "empty"],
)
def test_anything_else_keeps_its_intent(text: str, intent: str) -> None:
    data = classify(message(text, intent))
    assert data["intent"]["name"] == intent
