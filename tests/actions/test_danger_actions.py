"""Danger first: 17/112 before anything else, in every form and outside them, and the answer the
doctor typed is still read and kept (actions/danger.py)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.case import ValidateResumeForm
from actions.common import repository
from actions.complaint import ActionStartComplaint, ValidateComplaintForm
from actions.danger import reveals_danger
from actions.evidence import ValidateEvidenceForm
from actions.triage import ActionAnalyzeSituation, ValidateTriageForm
from tests.actions.test_case_actions import start_case
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

THREAT = "il vient de m'écrire qu'il va venir me tuer au cabinet"


def typed(
    text: str,
    intent: str,
    form: str,
    slots: dict[str, Any],
    extracted: dict[str, Any] | None = None,
) -> Tracker:
    """The tracker a form's validation action gets for a message just typed during the form.

    `extracted`: what Rasa's slot mappings took from the message (from_text), validated next.
    """
    events = [
        {"event": "action", "name": form},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
        *({"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()),
    ]
    tracker = make_tracker(text, intent=intent, slots=slots, events=events, active_loop=form)
    tracker.slots.update(extracted or {})
    return tracker


def test_danger_is_the_intent_or_the_lexicon() -> None:
    assert reveals_danger(make_tracker("au secours", intent="report_emergency"))
    assert reveals_danger(make_tracker(THREAT, intent="inform"))
    assert reveals_danger(make_tracker("je n'en peux plus, j'ai envie d'en finir", "faq"))
    assert not reveals_danger(make_tracker("c'est sur Facebook depuis hier", intent="inform"))
    assert not reveals_danger(make_tracker("", intent="nlu_fallback"))


# --- During the triage ------------------------------------------------------------------------


async def test_triage_danger_gets_17_112_first_and_the_answer_is_kept(
    domain: dict[str, Any],
) -> None:
    slots = {"offenses": ["insult"], "requested_slot": "platforms"}
    dispatcher = CollectingDispatcher()
    tracker = typed("sur Facebook, et là " + THREAT, "report_emergency", "triage_form", slots)
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert responses(dispatcher).count("utter_emergency") == 1
    found = slot_events(events)
    assert found["urgent"] is True
    assert found["platforms"] == ["facebook"]  # the answer to the question is kept
    assert "threat" in found["offenses"]
    assert "utter_not_understood_answer" not in responses(dispatcher)


async def test_triage_danger_again_gets_the_reply_again_and_is_no_miss(
    domain: dict[str, Any],
) -> None:
    """Already urgent, and a message with nothing new but the danger: reply again, the form
    asks its question again (no « je n'ai pas compris »)."""
    slots = {"urgent": True, "offenses": ["threat"], "requested_slot": "platforms"}
    dispatcher = CollectingDispatcher()
    tracker = typed("il est devant, au secours", "report_emergency", "triage_form", slots)
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert "utter_not_understood_answer" not in responses(dispatcher)
    assert slot_events(events)["urgent"] is True  # the form is not rejected


async def test_triage_danger_said_under_another_intent_is_caught_by_the_lexicon(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"requested_slot": "first_published", "platforms": ["sms"]}
    tracker = typed("hier, et " + THREAT, "inform", "triage_form", slots)
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert slot_events(events)["first_published"] == "2026-11-23"


async def test_no_reply_for_a_plain_answer_or_back_from_a_digression(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = typed("c'est sur Instagram", "inform", "triage_form", {"requested_slot": "platforms"})
    await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert "utter_emergency" not in responses(dispatcher)

    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": THREAT},
        {"event": "action", "name": "utter_faq"},
    ]
    tracker = make_tracker(
        THREAT,
        "report_emergency",
        {"requested_slot": "platforms"},
        events=events,
        active_loop="triage_form",
    )
    dispatcher = CollectingDispatcher()
    assert await ValidateTriageForm().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


# --- During the complaint, the evidence and the resume forms --------------------------------


async def test_threat_quoted_as_the_statement_gets_17_112_and_stays_the_statement(
    domain: dict[str, Any],
) -> None:
    code, secret, slots = await start_case(domain)
    started = await ActionStartComplaint().run(
        CollectingDispatcher(), make_tracker("x", slots=slots), domain
    )
    slots.update(slot_events(started), requested_slot="letter_statement")
    questions = list(slots["letter_missing"])
    slots.update({q: "ok" for q in questions[: questions.index("letter_statement")]})
    dispatcher = CollectingDispatcher()
    tracker = typed(
        THREAT, "report_emergency", "complaint_form", slots, {"letter_statement": THREAT}
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_emergency"]
    found = slot_events(events)
    assert found["letter_statement"] == THREAT  # still the statement, waiting for its date
    assert found["requested_slot"] == "letter_statement_date"  # the form goes on
    assert found["urgent"] is True
    # The danger is written to the case (and nothing else of the form is changed).
    case = repository().open_case(code, secret).to_dict()
    assert case["incident"]["physical_danger"] is True


async def test_a_plain_complaint_answer_gets_no_emergency_reply(domain: dict[str, Any]) -> None:
    code, _secret, slots = await start_case(domain)
    started = await ActionStartComplaint().run(
        CollectingDispatcher(), make_tracker("x", slots=slots), domain
    )
    slots.update(slot_events(started), requested_slot="letter_name")
    dispatcher = CollectingDispatcher()
    name = {"letter_name": "Camille Zorglubin"}
    tracker = typed("Camille Zorglubin", "inform", "complaint_form", slots, name)
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert "utter_emergency" not in responses(dispatcher)
    assert "urgent" not in slot_events(events)


async def test_threat_quoted_as_evidence_excerpt_gets_17_112_and_is_kept(
    domain: dict[str, Any],
) -> None:
    quote = "« je vais venir te tuer au cabinet »"
    slots = {"requested_slot": "evidence_excerpt", "evidence_url": ""}
    dispatcher = CollectingDispatcher()
    tracker = typed(
        quote, "describe_situation", "evidence_form", slots, {"evidence_excerpt": quote}
    )
    events = await ValidateEvidenceForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_emergency"]
    found = slot_events(events)
    assert found["evidence_excerpt"] == quote
    assert found["urgent"] is True


async def test_danger_during_the_resume_form_gets_17_112_first(domain: dict[str, Any]) -> None:
    code, secret, _slots = await start_case(domain, sender="first-device")
    text = f"{THREAT} ! mon dossier : {code} {secret}"
    dispatcher = CollectingDispatcher()
    slots = {"requested_slot": "resume_credentials"}
    tracker = typed(text, "report_emergency", "resume_form", slots, {"resume_credentials": text})
    tracker.sender_id = "second-device"
    events = await ValidateResumeForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    found = slot_events(events)
    assert found["resume_credentials"] == "ok"  # the code typed with it still opens the case
    assert found["urgent"] is True  # after the resumed case's facts: the danger is kept
    assert repository().open_case(code, secret).to_dict()["incident"]["physical_danger"] is True


# --- Outside the forms --------------------------------------------------------------------------


async def test_a_new_danger_gets_the_reply_again_even_when_already_urgent(
    domain: dict[str, Any],
) -> None:
    """After the advice (already urgent): a new threat gets 17/112 again, first."""
    slots = {"urgent": True, "physical_danger": True, "advice_given": True}
    dispatcher = CollectingDispatcher()
    await ActionAnalyzeSituation().run(dispatcher, make_tracker(THREAT, slots=slots), domain)
    assert responses(dispatcher)[0] == "utter_emergency"


async def test_a_plain_description_after_an_urgent_one_does_not_repeat_it(
    domain: dict[str, Any],
) -> None:
    slots = {"urgent": True, "physical_danger": True, "offenses": ["threat"]}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("c'était sur Facebook, je suis généraliste libéral", slots=slots)
    await ActionAnalyzeSituation().run(dispatcher, tracker, domain)
    assert "utter_emergency" not in responses(dispatcher)


async def test_not_twice_when_the_rule_already_sent_it(domain: dict[str, Any]) -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": THREAT},
        {"event": "action", "name": "utter_emergency"},
        {"event": "bot", "text": "17"},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(THREAT, intent="report_emergency", events=events)
    found = slot_events(await ActionAnalyzeSituation().run(dispatcher, tracker, domain))
    assert "utter_emergency" not in responses(dispatcher)
    assert found["urgent"] is True


# --- A request for the complaint that reveals a danger ------------------------------------------


async def test_a_complaint_request_with_a_danger_gets_17_112_first(domain: dict[str, Any]) -> None:
    """The facts component leaves `draft_complaint` alone: the complaint's start replies."""
    text = "rédigez ma plainte, il a écrit qu'il allait me tuer à la sortie du cabinet"
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaint().run(
        dispatcher, make_tracker(text, intent="draft_complaint"), domain
    )
    said = responses(dispatcher)
    assert said[0] == "utter_emergency"
    assert "utter_complaint_needs_facts" in said  # then the complaint goes on as usual
    assert slot_events(events)["urgent"] is True


async def test_a_plain_complaint_request_gets_no_emergency_reply(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaint().run(
        dispatcher, make_tracker("rédigez ma plainte s'il vous plaît", "draft_complaint"), domain
    )
    assert "utter_emergency" not in responses(dispatcher)
    assert "urgent" not in slot_events(events)


def test_the_facts_model_reading_counts_as_a_danger() -> None:
    """A danger only the trained model read (carried in the parse data) is a danger."""
    text = "rédigez ma plainte, je ne vois plus comment continuer ma vie"
    tracker = make_tracker(text, intent="draft_complaint")
    assert not reveals_danger(tracker)
    tracker.latest_message["riposte_facts"] = {"scores": {"danger": 0.9}}
    assert reveals_danger(tracker)


def test_the_emergency_reply_gives_the_numbers_including_suicide_prevention(
    domain: dict[str, Any],
) -> None:
    """Danger covers the doctor's own distress (« envie d'en finir »): 3114 as well as 17/112."""
    text = domain["responses"]["utter_emergency"][0]["text"]
    for number in ("17", "112", "114", "3114"):
        assert re.search(rf"(?<!\d){number}(?!\d)", text), number
