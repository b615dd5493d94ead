"""The triage conversation through the REST channel, with the real Rasa and action servers.

Runs before test_serve_stop.py, which stops the shared stacks (conftest orders it last).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from riposte import clock
from tests.integration.conftest import Stack


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def test_urgent_situation_gets_17_and_112_in_the_first_reply(bot: Stack) -> None:
    replies = bot.say(
        "urgent-1", "il a publié mon adresse et dit qu'il va venir me tuer au cabinet"
    )
    first = replies[0]["text"]
    assert "17" in first and "112" in first
    slots = bot.slots("urgent-1")
    assert slots["urgent"] is True
    assert set(slots["offenses"]) >= {"threat", "doxxing"}


def test_one_message_fills_the_slots_and_only_the_missing_question_is_asked(bot: Stack) -> None:
    message = (
        "Depuis hier des centaines de comptes m'insultent sur Twitter après mon tweet sur "
        "les vaccins"
    )
    replies = bot.say("one-msg", message)
    slots = bot.slots("one-msg")
    assert slots["platforms"] == ["x"]
    assert "insult" in slots["offenses"]
    assert slots["urgent"] in (None, False)
    assert slots["first_published"] == (clock.today() - timedelta(days=1)).isoformat()
    # Already said: where, what, when, who, how many. Only the practice is asked.
    assert slots["requested_slot"] == "practice"
    assert all("practice=" in payload for payload in buttons(replies))
    assert "X (ex-Twitter)" in texts(replies)  # the summary of what was understood

    replies = bot.say("one-msg", '/inform{"choice": "practice=hospital"}')
    slots = bot.slots("one-msg")
    assert slots["strategy_level"] == "offensive"
    assert slots["practice"] == "hospital"
    # Short on a phone: the recommendation (the other rungs as buttons), the deadline that
    # matters most, the first step with its buttons; nothing else.
    assert len(replies) == 3
    recommendation, deadline, step = (r["text"] for r in replies)
    assert recommendation.count("Réaction offensive") == 1
    assert {"/prefer_wait", "/request_platform_notice", "/show_ladder"} <= set(buttons(replies))
    assert re.search(
        r"Injure publique.*il vous reste \d+ jours? pour agir en justice, jusqu'au \d\d/\d\d/\d{4}",
        deadline,
    )
    assert "Première étape" in step
    assert {"/mark_step_done", "/show_all_steps", "/draft_complaint"} <= set(buttons(replies))

    # The whole checklist on demand: a hospital doctor's includes the functional protection.
    text = texts(bot.say("one-msg", "montrez-moi toutes les étapes"))
    assert "☐ 1." in text and "protection fonctionnelle" in text
    # The ladder on demand: the recommended rung marked once.
    text = texts(bot.say("one-msg", "c'est quoi les paliers ?"))
    assert text.count("← recommandé") == 1 and "Réaction offensive ← recommandé" in text

    first_step = slots["current_step"]
    replies = bot.say("one-msg", "voilà qui est fait")
    slots = bot.slots("one-msg")
    assert slots["steps_done"] == [first_step]
    assert "est fait" in texts(replies)
    assert slots["current_step"] != first_step

    replies = bot.say("one-msg", "pourquoi ?")
    text = texts(replies)
    assert "Sources :" in text and "https://" in text
    assert "pas avocat" in text


def test_step_by_step_answers_in_free_text(bot: Stack) -> None:
    bot.say("steps", "j'ai un souci avec des publications à mon sujet")
    assert bot.slots("steps")["requested_slot"] == "platforms"
    bot.say("steps", "c'est sur Facebook")
    slots = bot.slots("steps")
    assert slots["platforms"] == ["facebook"]
    assert slots["requested_slot"] == "offenses"
    bot.say("steps", "il m'accuse d'avoir falsifié le dossier de sa mère")
    assert bot.slots("steps")["offenses"] == ["defamation"]
    bot.say("steps", "il y a deux semaines")
    slots = bot.slots("steps")
    assert slots["first_published"] == (clock.today() - timedelta(days=14)).isoformat()
    assert slots["requested_slot"] == "author_relation"
    # « pourquoi ? » during a question: why it is asked (with its text of law), then the
    # same question again.
    replies = bot.say("steps", "pourquoi ?")
    assert "R.4127-56" in texts(replies)
    assert replies[-1]["text"] == "Savez-vous qui en est l'auteur ?"
    assert bot.slots("steps")["requested_slot"] == "author_relation"


def test_asking_for_prevention_gets_the_preventive_rung(bot: Stack) -> None:
    """The rung of each situation is a table of its own (tests/core/test_rungs.py); this one
    depends on the trained model too (the intent asking for prevention, with no facts)."""
    bot.say("rung-prev", "je ne suis pas victime, je veux juste m'y préparer")
    assert bot.slots("rung-prev")["strategy_level"] == "preventive"


def test_a_forged_button_choice_changes_nothing(bot: Stack) -> None:
    bot.say("forged", "on m'insulte sur instagram")
    before = bot.slots("forged")
    replies = bot.say("forged", '/inform{"choice": "requested_slot=practice"}')
    after = bot.slots("forged")
    assert after["requested_slot"] == before["requested_slot"]
    assert "pas compris" in texts(replies)


def test_faq_answers_with_its_source(bot: Stack) -> None:
    text = texts(bot.say("faq", "quelle différence entre une injure et une diffamation ?"))
    assert "Source" in text and "1881" in text
