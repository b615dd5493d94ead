"""The « neutre », « préventive » and « offensive » rungs and « ça recommence » through the
real stack (REST):
a lawful review, « je préfère ne rien faire » (the neutre checklist), then it happens again
with an insult (the facts merged, the advice again), then « comment me protéger ? » (the
prevention checklist)."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Stack

REVIEW = (
    "Le 28 novembre, un patient a laissé un avis une étoile sur Google en écrivant que je suis "
    "toujours en retard, je suis généraliste libéral"
)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def advice_count(bot: Stack, sender: str) -> int:
    events = bot.tracker(sender)["events"]
    return sum(
        1 for e in events if e.get("event") == "action" and e.get("name") == "action_give_advice"
    )


def test_do_nothing_then_worse_then_prevention(bot: Stack) -> None:
    sender = "rungs-1"
    bot.say(sender, REVIEW)
    slots = bot.slots(sender)
    assert slots["advice_given"] is True and slots["lawful_criticism"] is True
    assert advice_count(bot, sender) == 1

    replies = bot.say(sender, "je préfère ne rien faire")
    said = texts(replies)
    assert "☐ 1. Ne répondez pas" in said and "☐ 2. Gardez dès maintenant des preuves" in said
    assert "(conseil pratique de Riposte)" in said and "Sources :" in said
    assert "« ajouter une preuve »" in said and "/add_evidence" in payloads(replies)
    # A lawful review is no offence: no deadline runs.
    assert "délai pour agir en justice court quand même" not in said
    assert "Si cela recommence ou s'aggrave, dites-le-moi" in said
    assert "/situation_worse" in payloads(replies)
    slots = bot.slots(sender)
    assert slots["chosen_rung"] == "neutre"

    replies = bot.say(sender, "il a recommencé, il m'insulte maintenant")
    said = texts(replies)
    # Read as « ça recommence » with a new fact: analysed at once, with what was known.
    assert "Je garde ce que je sais déjà de votre situation et j'y ajoute" in said
    slots = bot.slots(sender)
    # Merged with what was known: the review's platform, date and author stay. (Insults that
    # come back may also read as harassment: the facts model's call, not this path's.)
    assert "insult" in slots["offenses"] and slots["lawful_criticism"] is False
    offenses = slots["offenses"]
    assert slots["platforms"] == ["google_reviews"]
    assert slots["first_published"].endswith("-11-28")
    assert slots["author_relation"] == "patient"
    assert "Injure" in said
    assert advice_count(bot, sender) == 2  # the advice again, on the merged facts

    # « ça recommence » alone: what is known is kept and what is new is asked.
    replies = bot.say(sender, "ça recommence")
    said = texts(replies)
    assert "Je garde tout ce que je sais déjà" in said and "Qu'est-ce qui est nouveau" in said
    assert bot.slots(sender)["offenses"] == offenses

    replies = bot.say(sender, "comment me protéger à l'avenir ?")
    said = texts(replies)
    assert "Réaction préventive" in said and "☐ 1. Créez une alerte sur votre nom" in said
    assert "assureur" in said and "conseil-national.medecin.fr/ereputation" in said
    assert bot.slots(sender)["chosen_rung"] == "preventive"


def test_it_happens_again_with_a_threat_gets_17_112_first(bot: Stack) -> None:
    sender = "rungs-2"
    bot.say(sender, REVIEW)
    replies = bot.say(sender, "il a recommencé, cette fois il menace de venir au cabinet")
    assert "appelez tout de suite le 17" in replies[0]["text"]
    slots = bot.slots(sender)
    assert slots["urgent"] is True and slots["platforms"] == ["google_reviews"]
    assert advice_count(bot, sender) == 2


DEFAMATION = (
    "Le 25 novembre, un patient a publié sur ma fiche Google un avis public qui affirme que je "
    "fais de faux arrêts de travail contre de l'argent. C'est faux. C'est un seul avis, je suis "
    "généraliste libéral."
)


def test_offensive_the_checklist_then_the_complaint_with_the_case_file(bot: Stack) -> None:
    """The offensive rung from its button under the recommendation: the constat, the insurer,
    the lawyer, the complaint and the Ordre, the deadline, the letters; the complaint from its
    button offers the case file, and its yes starts the complaint."""
    sender = "rungs-3"
    replies = bot.say(sender, DEFAMATION)
    assert bot.slots(sender)["strategy_level"] == "offensive", texts(replies)
    assert "/request_legal_action" in payloads(replies)

    replies = bot.say(sender, "/request_legal_action")
    said = texts(replies)
    assert "Réaction offensive : agir en justice" in said
    for needle in ("commissaire de justice", "assureur", "avocat", "procureur", "l'Ordre"):
        assert needle in said, needle
    assert "protection fonctionnelle" not in said.split("Sources :")[0]  # liberal practice
    assert "Diffamation publique" in said and "jusqu'au" in said  # the deadline that runs
    assert payloads(replies)[0] == "/draft_complaint"
    assert any("cdom_declaration" in p for p in payloads(replies))
    assert bot.slots(sender)["chosen_rung"] == "offensive"

    replies = bot.say(sender, "/draft_complaint")
    assert "dossier chiffré" in texts(replies) and bot.slots(sender)["case_code"] is None
    replies = bot.say(sender, "/open_case")
    assert "Code du dossier" in texts(replies) and "prénom et nom" in texts(replies)
    assert bot.slots(sender)["case_code"]
