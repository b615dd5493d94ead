"""« Je préfère ne rien faire », « ça recommence » and « comment me protéger ? » : the actions
of actions/rungs.py, with rasa-sdk's Tracker and the real domain and knowledge."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.rungs import (
    ActionNeutrePlan,
    ActionOffensivePlan,
    ActionPreventionPlan,
    ActionReopenSituation,
)
from riposte.chat import rungs, triage
from riposte.knowledge.plans import load_plans
from tests.actions.conftest import TODAY
from tests.actions.test_triage_actions import make_tracker, responses, slot_events
from tests.slots import lawful_review

# A one-star review: a lawful criticism, every question answered.
REVIEW: dict[str, Any] = lawful_review("2026-11-20", advice_given=True, triage_complete=True)
INSULT = {**REVIEW, "offenses": ["insult"], "lawful_criticism": False}


def _value(dispatcher: CollectingDispatcher, response: str, name: str) -> str:
    found = [m for m in dispatcher.messages if m["response"] == response]
    assert found, (response, responses(dispatcher))
    return str(found[0][name])


async def test_doing_nothing_about_a_lawful_review_gets_the_neutre_checklist(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je préfère ne rien faire", intent="prefer_wait", slots=REVIEW)
    events = await ActionNeutrePlan().run(dispatcher, tracker, domain)
    # No offence, so no deadline runs: the plan, then « si cela recommence, dites-le-moi ».
    assert responses(dispatcher) == ["utter_neutre_plan", "utter_neutre_watch"]
    plan = _value(dispatcher, "utter_neutre_plan", "plan")
    for item in load_plans().plans["neutre"].items:
        assert item.text in plan
    assert "☐ 2. Gardez dès maintenant des preuves datées" in plan
    assert "(conseil pratique de Riposte)" in plan  # masking: no public source says it
    assert "https://cnil.fr/fr/reagir-en-cas-de-harcelement-en-ligne" in plan
    # The doctor's choice; the recommended rung is left alone.
    assert slot_events(events) == {"chosen_rung": "neutre"}


async def test_doing_nothing_about_an_insult_says_the_deadline_runs_anyway(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je vais laisser couler", intent="prefer_wait", slots=INSULT)
    await ActionNeutrePlan().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [
        "utter_neutre_plan",
        "utter_neutre_deadline",
        "utter_neutre_watch",
    ]
    # The advice engine's deadline, as the advice tells it: three months from 20/11/2026.
    deadlines = _value(dispatcher, "utter_neutre_deadline", "deadlines")
    assert deadlines == "\n".join(triage.deadline_lines(triage.advice_for(INSULT, TODAY)))
    assert "Injure publique" in deadlines and "20/02/2027" in deadlines


async def test_it_happens_again_with_nothing_new_asks_what_is_new(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("il a recommencé", intent="situation_worse", slots=REVIEW)
    events = await ActionReopenSituation().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_situation_news_asked"]
    # Nothing known is forgotten, nothing is analysed yet.
    assert slot_events(events) == {"triage_complete": True, "news_asked": True}


async def test_it_happens_again_keeps_that_it_is_repeated(domain: dict[str, Any]) -> None:
    """« ça recommence » reads as repeated messages: kept, and what is new is still asked."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ça recommence", intent="situation_worse", slots=REVIEW)
    events = await ActionReopenSituation().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_situation_news_asked"
    slots = slot_events(events)
    assert slots["volume"] == "repeated" and slots["news_asked"] is True
    assert "offenses" not in slots


async def test_it_happens_again_with_a_new_fact_is_merged_and_read_at_once(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "il a recommencé, il m'insulte maintenant", intent="situation_worse", slots=REVIEW
    )
    events = await ActionReopenSituation().run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert said[:2] == ["utter_situation_news_read", "utter_facts_noted"]
    slots = slot_events(events)
    # Merged with what was known: the platform and the date stay, the insult is added.
    assert slots["offenses"] == ["insult"] and slots["lawful_criticism"] is False
    facts = _value(dispatcher, "utter_facts_noted", "facts")
    assert "Google" in facts and "Injure" in facts
    assert slots["triage_complete"] is True and slots["news_asked"] is False


async def test_it_happens_again_with_a_danger_gets_17_112_first(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "il a recommencé, cette fois il menace de venir au cabinet",
        intent="situation_worse",
        slots=REVIEW,
    )
    events = await ActionReopenSituation().run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert said[:3] == ["utter_emergency", "utter_situation_news_read", "utter_facts_noted"]
    assert said.count("utter_emergency") == 1
    slots = slot_events(events)
    assert slots["urgent"] is True and slots["news_asked"] is False


async def test_it_happens_again_with_nothing_known_is_a_first_description(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ça recommence", intent="situation_worse")
    events = await ActionReopenSituation().run(dispatcher, tracker, domain)
    said = responses(dispatcher)
    assert "utter_situation_news_asked" not in said
    assert "utter_situation_news_read" not in said  # nothing was known to keep
    slots = slot_events(events)
    assert slots["triage_complete"] is False and slots["news_asked"] is False


async def test_prevention_gets_the_checklist_and_the_preventive_rung(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("comment me protéger à l'avenir ?", intent="request_prevention")
    events = await ActionPreventionPlan().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_prevention_plan"]
    plan = _value(dispatcher, "utter_prevention_plan", "plan")
    assert plan == rungs.plan_text("preventive")
    for needle in ("alerte sur votre nom", "confidentialité", "domicile", "assureur"):
        assert needle in plan
    assert "conseil-national.medecin.fr/ereputation" in plan
    # Without any fact the engine recommends the preventive rung too.
    assert slot_events(events) == {"chosen_rung": "preventive", "strategy_level": "preventive"}


async def test_prevention_after_a_description_leaves_the_recommended_rung(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("et pour éviter que ça revienne ?", "request_prevention", INSULT)
    events = await ActionPreventionPlan().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"chosen_rung": "preventive"}


async def test_starting_again_forgets_the_chosen_rung(domain: dict[str, Any]) -> None:
    from actions.triage import ActionRestartTriage

    slots = {**REVIEW, "chosen_rung": "neutre", "news_asked": True}
    dispatcher = CollectingDispatcher()
    events = await ActionRestartTriage().run(dispatcher, make_tracker("", slots=slots), domain)
    reset = slot_events(events)
    assert reset["chosen_rung"] is None and reset["news_asked"] is None


async def test_acting_in_court_gets_the_offensive_checklist_the_deadline_and_the_letters(
    domain: dict[str, Any],
) -> None:
    slots = {**INSULT, "practice": "liberal"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je veux l'attaquer en justice", "request_legal_action", slots)
    events = await ActionOffensivePlan().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [
        "utter_offensive_plan",
        "utter_offensive_deadline",
        "utter_offensive_letters",
    ]
    plan = _value(dispatcher, "utter_offensive_plan", "plan")
    assert plan == rungs.plan_text("offensive", "liberal")
    for needle in ("commissaire de justice", "assureur", "avocat", "procureur", "l'Ordre"):
        assert needle in plan
    assert "protection fonctionnelle" not in plan  # a liberal doctor: the insurer pays
    deadlines = _value(dispatcher, "utter_offensive_deadline", "deadlines")
    assert "Injure publique" in deadlines and "20/02/2027" in deadlines
    buttons = [m for m in dispatcher.messages if m["response"] == "utter_offensive_letters"][0]
    payloads = [b["payload"] for b in buttons["buttons"]]
    assert payloads[0] == "/draft_complaint"
    assert any("draft_kind=cdom_declaration" in p for p in payloads)
    assert not any("functional_protection" in p for p in payloads)
    assert slot_events(events) == {"chosen_rung": "offensive"}


async def test_a_hospital_doctor_is_offered_the_protection_fonctionnelle(
    domain: dict[str, Any],
) -> None:
    slots = {**INSULT, "practice": "hospital"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je veux un avocat", "request_legal_action", slots)
    await ActionOffensivePlan().run(dispatcher, tracker, domain)
    plan = _value(dispatcher, "utter_offensive_plan", "plan")
    assert "protection fonctionnelle" in plan and "assureur" not in plan
    buttons = [m for m in dispatcher.messages if m["response"] == "utter_offensive_letters"][0]
    assert any("draft_kind=functional_protection" in b["payload"] for b in buttons["buttons"])


async def test_no_court_for_a_lawful_criticism(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je veux le poursuivre", "request_legal_action", REVIEW)
    events = await ActionOffensivePlan().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offensive_no_offence"]
    assert events == []


async def test_acting_in_court_before_the_facts_gets_the_whole_checklist(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("comment attaquer en justice ?", "request_legal_action")
    await ActionOffensivePlan().run(dispatcher, tracker, domain)
    # No fact, so no deadline; the mode of practice unknown: both ways to pay the lawyer.
    assert responses(dispatcher) == ["utter_offensive_plan", "utter_offensive_letters"]
    plan = _value(dispatcher, "utter_offensive_plan", "plan")
    assert "protection fonctionnelle" in plan and "assureur" in plan
