"""The custom actions, run with rasa-sdk's Tracker and CollectingDispatcher on the real domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import (
    RUNG_INTENTS,
    ActionExplainWhy,
    ActionGiveAdvice,
    ActionMarkStepDone,
    ActionShowAllSteps,
    ActionShowLadder,
)
from actions.triage import ActionAnalyzeSituation, ActionRestartTriage, ValidateTriageForm
from riposte.chat import triage

ROOT = Path(__file__).resolve().parents[2]


def make_tracker(
    text: str,
    intent: str = "describe_situation",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    ranking = [{"name": intent, "confidence": 1.0}]
    message = {"text": text, "intent": ranking[0], "intent_ranking": ranking}
    message["entities"] = entities or []
    if events is None:
        events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text}]
    return Tracker(
        sender_id="test",
        slots=dict(slots or {}),
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def test_urgent_description_sends_17_112_before_anything(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("il menace de me tuer et a publié mon adresse sur Facebook")
    events = await ActionAnalyzeSituation().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    slots = slot_events(events)
    assert slots["urgent"] is True
    assert slots["platforms"] == ["facebook"]
    assert slots["triage_complete"] is False


async def test_report_emergency_intent_alone_is_urgent(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("au secours", intent="report_emergency")
    events = await ActionAnalyzeSituation().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert slot_events(events)["urgent"] is True


async def test_form_keeps_facts_outside_its_questions(domain: dict[str, Any]) -> None:
    """Urgency said while answering the date question is not lost (rasa-sdk drops it)."""
    dispatcher = CollectingDispatcher()
    slots = {"platforms": ["x"], "offenses": ["insult"], "requested_slot": "first_published"}
    tracker = make_tracker(
        "depuis hier, et maintenant il menace de venir me tuer",
        intent="inform",
        slots=slots,
        active_loop="triage_form",
    )
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    found = slot_events(events)
    assert found["first_published"] == "2026-11-23"
    assert found["urgent"] is True
    assert "threat" in found["offenses"]


async def test_button_choice_fills_its_slot(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        '/inform{"choice": "practice=hospital"}',
        intent="inform",
        slots={"requested_slot": "practice"},
        entities=[{"entity": "choice", "value": "practice=hospital"}],
        active_loop="triage_form",
    )
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["practice"] == "hospital"


async def test_forged_choice_is_not_understood_and_explained_on_second_miss(
    domain: dict[str, Any],
) -> None:
    entities = [{"entity": "choice", "value": "requested_slot=practice"}]
    args = {"intent": "inform", "entities": entities, "active_loop": "triage_form"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/inform", slots={"requested_slot": "volume"}, **args)
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"unanswered": 1.0}
    # « je ne sais pas » does not answer « combien de messages ? »: it is not offered.
    assert responses(dispatcher) == ["utter_not_understood_choice"]

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/inform", slots={"requested_slot": "volume", "unanswered": 1.0}, **args)
    await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_not_understood_choice", "utter_why_question"]
    assert dispatcher.messages[1]["reason"] == triage.why_question("volume")


async def test_no_extraction_after_a_digression(domain: dict[str, Any]) -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "c'est quoi pharos"},
        {"event": "action", "name": "utter_faq"},
        {"event": "action", "name": "triage_form"},
    ]
    tracker = make_tracker(
        "c'est quoi pharos sur twitter",
        intent="inform",
        slots={"requested_slot": "platforms"},
        events=events,
        active_loop="triage_form",
    )
    dispatcher = CollectingDispatcher()
    assert await ValidateTriageForm().run(dispatcher, tracker, domain) == []


async def test_a_future_date_is_refused(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateTriageForm().validate_first_published(
        "2027-01-01", dispatcher, make_tracker("x"), domain
    )
    assert result == {"first_published": None}
    assert responses(dispatcher) == ["utter_date_in_future"]


FULL = {
    "platforms": ["x"],
    "offenses": ["insult"],
    "first_published": "2026-11-01",
    "author_relation": "unknown",
    "volume": "raid",
    "public": True,
    "practice": "liberal",
}


async def test_advice_sets_the_level_and_offers_the_first_step(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionGiveAdvice().run(dispatcher, make_tracker("", slots=FULL), domain)
    slots = slot_events(events)
    assert slots["strategy_level"] == "offensive"
    assert slots["current_step"] == "preserve_evidence"
    # Three messages, short enough for a phone: the recommendation, the deadline that matters
    # most (with the offer of a case file, to watch it), the first step (an offensive rung
    # advises a complaint: its button is there).
    assert responses(dispatcher) == [
        "utter_advice",
        "utter_key_deadline_case_offer",
        "utter_first_step_complaint",
    ]
    assert "Injure publique" in dispatcher.messages[0]["advice"]
    assert "Injure publique" in dispatcher.messages[1]["deadline"]
    assert slots["case_offer"] == "advice" and "case_code" not in slots


async def test_the_case_is_offered_once_and_not_after_a_no(domain: dict[str, Any]) -> None:
    offer = domain["responses"]["utter_key_deadline_case_offer"][0]
    assert [b["payload"] for b in offer["buttons"]] == ["/open_case", "/decline_case"]
    for slots in ({"case_offer": "declined"}, {"case_code": "RIP-0000-00"}):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("", slots={**FULL, **slots})
        events = await ActionGiveAdvice().run(dispatcher, tracker, domain)
        assert responses(dispatcher)[1] == "utter_key_deadline"
        assert "case_offer" not in slot_events(events)


async def test_the_recommendation_names_one_rung_and_offers_the_others_as_buttons(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionGiveAdvice().run(dispatcher, make_tracker("", slots=FULL), domain)
    recommendation = dispatcher.messages[0]
    text = recommendation["advice"]
    # The rung is named once; the full ladder, the checklist and the warnings wait for demand.
    assert text.count("Réaction offensive") == 1 and "← recommandé" not in text
    assert "☐" not in text and "À savoir" not in text
    payloads = [b["payload"] for b in recommendation["buttons"]]
    # The recommended offensive rung's own path first (its checklist), then the others.
    assert payloads == [
        "/request_legal_action",
        "/prefer_wait",
        "/request_platform_notice",
        "/show_ladder",
    ]
    assert "/draft_complaint" not in payloads  # the complaint is the first step's button


async def test_every_rung_button_starts_an_intent_of_the_domain(domain: dict[str, Any]) -> None:
    assert set(RUNG_INTENTS.values()) <= set(domain["intents"])


async def test_all_steps_and_the_ladder_come_on_demand(domain: dict[str, Any]) -> None:
    slots = {**FULL, "advice_given": True, "steps_done": ["preserve_evidence"]}
    dispatcher = CollectingDispatcher()
    await ActionShowAllSteps().run(dispatcher, make_tracker("", slots=slots), domain)
    steps = dispatcher.messages[0]["steps"]
    assert "☑ 1. Conserver les preuves" in steps and "☐ 2." in steps and "À savoir" in steps

    dispatcher = CollectingDispatcher()
    events = await ActionShowLadder().run(dispatcher, make_tracker("", slots=slots), domain)
    ladder = dispatcher.messages[0]["ladder"]
    assert ladder.count("← recommandé") == 1
    assert "5. Réaction offensive ← recommandé" in ladder
    assert "Réaction neutre (possible aussi)" in ladder
    assert slot_events(events) == {"last_explained": "strategy"}


async def test_all_steps_before_any_advice_asks_for_the_facts(domain: dict[str, Any]) -> None:
    for action in (ActionShowAllSteps(), ActionShowLadder()):
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, make_tracker("", slots={}), domain)
        assert responses(dispatcher) == ["utter_no_advice_yet"]


async def test_no_complaint_offered_for_a_lawful_review(domain: dict[str, Any]) -> None:
    slots = {**FULL, "offenses": [], "lawful_criticism": True, "volume": "single"}
    slots.update(platforms=["google_reviews"], author_relation="patient")
    dispatcher = CollectingDispatcher()
    await ActionGiveAdvice().run(dispatcher, make_tracker("", slots=slots), domain)
    # No offence: no deadline message (the case file is offered alone) and no complaint
    # button.
    assert responses(dispatcher) == ["utter_advice", "utter_case_offer", "utter_first_step"]


async def test_advice_with_missing_facts_goes_back_to_the_questions(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"platforms": ["x"], "offenses": ["insult"]}
    events = await ActionGiveAdvice().run(dispatcher, make_tracker("", slots=slots), domain)
    assert events == [{"event": "followup", "name": "triage_form", "timestamp": None}]


async def test_ticking_a_step_moves_to_the_next(domain: dict[str, Any]) -> None:
    slots = {**FULL, "advice_given": True, "current_step": "preserve_evidence"}
    dispatcher = CollectingDispatcher()
    events = await ActionMarkStepDone().run(dispatcher, make_tracker("fait", slots=slots), domain)
    found = slot_events(events)
    assert found["steps_done"] == ["preserve_evidence"]
    assert found["current_step"] not in (None, "preserve_evidence")
    # No case in this conversation (not wanted): the step is kept in the conversation only.
    assert responses(dispatcher) == ["utter_step_ticked", "utter_next_step"]
    assert "case_code" not in found


async def test_why_during_the_questions_explains_the_question(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "pourquoi ?",
        intent="ask_why",
        slots={"requested_slot": "first_published"},
        active_loop="triage_form",
    )
    await ActionExplainWhy().run(dispatcher, tracker, domain)
    assert "trois mois" in dispatcher.messages[0]["reason"]


async def test_restart_forgets_every_fact(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRestartTriage().run(dispatcher, make_tracker("", slots=FULL), domain)
    reset = slot_events(events)
    assert all(reset[name] is None for name in triage.FACT_SLOTS)
    assert reset["triage_complete"] is False


def test_every_response_an_action_sends_exists_in_the_domain(domain: dict[str, Any]) -> None:
    import re

    sent = set()
    for path in (ROOT / "actions").glob("*.py"):
        sent |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text()))
    assert sent and sent <= set(domain["responses"]), sorted(sent - set(domain["responses"]))


async def test_a_button_title_typed_is_its_choice_whatever_the_intent(
    domain: dict[str, Any],
) -> None:
    # Typed on a phone, without the accents and the comma, and read by the NLU as a FAQ.
    for text, intent in (("plusieurs du meme auteur", "faq"), ("Plusieurs", "inform")):
        tracker = make_tracker(
            text, intent=intent, slots={"requested_slot": "volume"}, active_loop="triage_form"
        )
        events = await ValidateTriageForm().run(CollectingDispatcher(), tracker, domain)
        assert slot_events(events)["volume"] == "repeated", text
    tracker = make_tracker(
        "Privés", intent="inform", slots={"requested_slot": "public"}, active_loop="triage_form"
    )
    events = await ValidateTriageForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["public"] is False
