"""Danger first, through the real stack: 17/112 before anything else in every state, then the
conversation goes on where it was (actions/danger.py, data/rules/triage.yml).

Runs before test_serve_stop.py, which stops the shared stacks (conftest orders it last).
"""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Stack

THREAT = "il vient de m'écrire qu'il va venir me tuer au cabinet"


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r.get("text", "") for r in replies if r.get("text")]


def is_emergency(text: str) -> bool:
    """utter_emergency (domain/danger.yml); the advice's « appeler le 17 » step is not it."""
    return "appelez tout de suite le 17" in text and "112" in text and "114" in text


def test_danger_during_the_triage_questions_then_the_same_question(bot: Stack) -> None:
    sender = "danger-triage"
    asked = texts(bot.say(sender, "on me harcèle en messages privés sur Instagram"))[-1]
    requested = bot.slots(sender)["requested_slot"]
    assert requested and not bot.slots(sender)["urgent"]

    replies = texts(bot.say(sender, THREAT))
    assert is_emergency(replies[0]), replies
    assert sum(is_emergency(t) for t in replies) == 1, replies
    slots = bot.slots(sender)
    assert slots["urgent"] is True
    assert "threat" in slots["offenses"]  # what the message says is kept
    # Then the conversation goes on where it was: the pending question, asked again.
    assert slots["requested_slot"] == requested
    assert replies[-1] == asked


URGENT_AND_COMPLETE = (
    "on m'envoie des menaces de mort par mail depuis hier, un anonyme, plusieurs messages, "
    "je suis en libéral"
)


def test_danger_after_the_advice_even_when_already_urgent(bot: Stack) -> None:
    sender = "danger-advice"
    first = texts(bot.say(sender, URGENT_AND_COMPLETE))
    assert is_emergency(first[0]), first
    assert bot.slots(sender)["advice_given"] is True and bot.slots(sender)["urgent"] is True

    # A new threat, after the advice: the reply again, first, then the advice again.
    replies = texts(bot.say(sender, "il m'attend devant le cabinet en ce moment"))
    assert is_emergency(replies[0]), replies
    assert sum(is_emergency(t) for t in replies) == 1, replies
    assert any("Réaction " in t for t in replies[1:]), replies

    # A plain message afterwards does not repeat it.
    replies = texts(bot.say(sender, "merci beaucoup"))
    assert not any(is_emergency(t) for t in replies), replies


def test_danger_after_a_faq_answer_even_when_already_urgent(bot: Stack) -> None:
    sender = "danger-faq"
    bot.say(sender, URGENT_AND_COMPLETE)
    faq = texts(bot.say(sender, "c'est quoi le délai pour porter plainte pour injure ?"))
    assert not any(is_emergency(t) for t in faq), faq
    replies = texts(bot.say(sender, THREAT))
    assert is_emergency(replies[0]), replies
    assert sum(is_emergency(t) for t in replies) == 1, replies
    assert bot.slots(sender)["urgent"] is True


def test_danger_during_the_evidence_form_then_the_same_question(bot: Stack) -> None:
    sender = "danger-evidence"
    asked = texts(bot.say(sender, "je veux ajouter un message à mes preuves"))[-1]
    assert bot.slots(sender)["requested_slot"] == "evidence_url"

    replies = texts(bot.say(sender, THREAT))
    assert is_emergency(replies[0]), replies
    assert bot.slots(sender)["urgent"] is True
    assert bot.slots(sender)["requested_slot"] == "evidence_url"
    assert replies[-1] == asked

    replies = texts(bot.say(sender, "aucune, c'était un SMS"))
    assert bot.slots(sender)["requested_slot"] == "evidence_seen_at"
    assert not any(is_emergency(t) for t in replies), replies


def test_threat_quoted_as_the_complaint_statement_is_kept_after_the_reply(bot: Stack) -> None:
    sender = "danger-complaint"
    bot.say(
        sender,
        "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
        "je suis généraliste libérale",
    )
    assert not bot.slots(sender)["urgent"]
    bot.say(sender, "rédiger ma plainte")
    for answer in (
        "oui",  # to the case file the complaint is kept in
        "Camille Zorglubin",
        "12/03/1978",
        "passer",
        "12 rue des Lilas",
        "44000 Nantes",
        "la même",
        "Depuis le 2 novembre, des dizaines de comptes me traitent d'escroc.",
    ):
        bot.say(sender, answer)
    assert bot.slots(sender)["requested_slot"] == "letter_statement"

    quote = "« je vais venir te tuer à ton cabinet, sale charlatan »"
    replies = texts(bot.say(sender, quote))
    assert is_emergency(replies[0]), replies
    slots = bot.slots(sender)
    assert slots["urgent"] is True
    assert slots["letter_statement"] == quote  # still the statement
    assert slots["requested_slot"] == "letter_statement_date"  # the form goes on
    assert "De quand datent ces propos" in replies[-1]

    replies = texts(bot.say(sender, "il y a une semaine"))
    assert not any(is_emergency(t) for t in replies), replies
    assert "Est-ce juste ?" in "\n".join(replies)
