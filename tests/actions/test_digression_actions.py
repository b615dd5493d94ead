"""Digressions while a form waits for an answer (data/rules/: triage, evidence, complaint).

The rules only fire when the form rejects the message: these tests check the slot mappings
that make it reject, the actions the rules run, and the ways out of a misunderstood answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionExplainWhy
from actions.complaint import ActionComplaintDuringTriage, ValidateComplaintForm
from actions.evidence import ValidateEvidenceForm
from actions.triage import ValidateTriageForm
from riposte.chat import complaint as chat
from riposte.chat import triage
from riposte.chat.evidence import EVIDENCE_SLOTS
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

DIGRESSIONS = ("faq", "ask_why", "ask_deadlines", "request_help")
# Quotes are taken as typed: « Pourquoi ce charlatan exerce encore ? » reads as ask_why.
QUOTES = ("letter_statement", "evidence_excerpt")


@pytest.mark.parametrize("slot", [*chat.QUESTIONS, *EVIDENCE_SLOTS])
def test_a_question_is_not_taken_as_an_answer(domain: dict[str, Any], slot: str) -> None:
    excluded = set(domain["slots"][slot]["mappings"][0]["not_intent"])
    assert {"cancel", "send_evidence_file"} <= excluded
    if slot in QUOTES:
        assert not excluded & set(DIGRESSIONS), slot
    else:
        assert set(DIGRESSIONS) <= excluded, slot
    if slot.startswith("letter_") and slot not in QUOTES:
        assert "draft_complaint" in excluded, slot


@pytest.mark.parametrize("slot", [*chat.QUESTIONS, *EVIDENCE_SLOTS])
def test_every_form_question_has_a_french_why(domain: dict[str, Any], slot: str) -> None:
    text = domain["responses"][f"utter_why_{slot}"][0]["text"]
    assert text.strip() and "\n" not in text.strip()


@pytest.mark.parametrize(
    ("form", "slot"),
    [
        ("complaint_form", "letter_name"),
        ("complaint_form", "letter_statement_date"),
        ("evidence_form", "evidence_seen_at"),
    ],
)
async def test_why_during_a_form_explains_the_pending_question(
    domain: dict[str, Any], form: str, slot: str
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "pourquoi ?", intent="ask_why", slots={"requested_slot": slot}, active_loop=form
    )
    assert await ActionExplainWhy().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [f"utter_why_{slot}"]


async def test_a_complaint_asked_during_the_triage_keeps_its_facts(
    domain: dict[str, Any],
) -> None:
    slots = {"platforms": ["x"], "offenses": ["insult"], "requested_slot": "first_published"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "je veux porter plainte, ça dure depuis le 2 novembre et ce sont des dizaines de comptes",
        intent="draft_complaint",
        slots=slots,
        active_loop="triage_form",
    )
    events = await ActionComplaintDuringTriage().run(dispatcher, tracker, domain)
    found = slot_events(events)
    assert found["first_published"] == "2026-11-02"
    assert found["volume"] == "raid"
    after = responses(dispatcher)
    assert "utter_complaint_after_triage" in after
    missing = triage.missing_slots({**slots, **found})
    sent = next(m for m in dispatcher.messages if m["response"] == "utter_complaint_after_triage")
    assert sent["count"] == len(missing) > 0


async def test_a_bare_complaint_request_during_the_triage_changes_nothing(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "fais-moi la plainte",
        intent="draft_complaint",
        slots={"requested_slot": "platforms"},
        active_loop="triage_form",
    )
    events = await ActionComplaintDuringTriage().run(dispatcher, tracker, domain)
    assert events == []
    assert responses(dispatcher) == ["utter_complaint_after_triage"]
    assert dispatcher.messages[0]["count"] == len(triage.REQUIRED_SLOTS)


async def test_a_threat_in_a_complaint_request_gets_the_emergency_first(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "rédigez ma plainte contre ce patient qui menace de me tuer sur Facebook",
        intent="draft_complaint",
        slots={"requested_slot": "platforms"},
        active_loop="triage_form",
    )
    events = await ActionComplaintDuringTriage().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert slot_events(events)["urgent"] is True


async def test_the_last_answer_in_a_complaint_request_leads_to_the_advice(
    domain: dict[str, Any],
) -> None:
    slots = {
        "platforms": ["x"],
        "offenses": ["insult"],
        "first_published": "2026-11-01",
        "author_relation": "unknown",
        "volume": "raid",
        "public": True,
        "requested_slot": "practice",
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "je suis à l'hôpital, faites-moi la plainte",
        intent="draft_complaint",
        slots=slots,
        active_loop="triage_form",
    )
    events = await ActionComplaintDuringTriage().run(dispatcher, tracker, domain)
    assert slot_events(events)["practice"] == "hospital"
    assert "utter_complaint_after_advice" in responses(dispatcher)


STORY = (
    "Est-ce normal qu'un patient publie chaque jour sur Facebook que je l'ai mal soigné "
    "et que je suis un charlatan ?"
)
AFTER_FAQ = [
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": STORY},
    {"event": "action", "name": "utter_faq"},
    {"event": "action", "name": "complaint_form"},
]


def _reading(tracker: Any, confidence: float) -> Any:
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


@pytest.mark.parametrize(
    ("slot", "text", "intent", "confidence", "events", "kept"),
    [
        # A long story that reads as a question is still the story.
        ("letter_summary", STORY, "faq", 1.0, None, True),
        # A short question is left to the digression rules.
        ("letter_summary", "c'est quoi la diffamation ?", "faq", 1.0, None, False),
        ("letter_name", "pourquoi vous voulez mon nom ?", "ask_why", 0.99, None, False),
        # The story is long only for the story question.
        ("letter_name", STORY, "faq", 1.0, None, False),
        # A low-confidence reading is the answer it may be.
        ("letter_birth_place", "Pointe-à-Pitre", "faq", 0.54, None, True),
        # Back from the digression (utter_faq ran): nothing new was typed.
        ("letter_summary", STORY, "faq", 1.0, AFTER_FAQ, False),
        # Other intents are taken by the slot's mapping (domain/).
        ("letter_summary", STORY, "describe_situation", 1.0, None, False),
    ],
)
async def test_an_answer_read_as_a_question_is_kept(
    domain: dict[str, Any],
    slot: str,
    text: str,
    intent: str,
    confidence: float,
    events: list[dict[str, Any]] | None,
    kept: bool,
) -> None:
    tracker = make_tracker(
        text,
        intent=intent,
        slots={"requested_slot": slot},
        events=events,
        active_loop="complaint_form",
    )
    form = ValidateComplaintForm()
    found = await form.get_extraction_events(
        CollectingDispatcher(), _reading(tracker, confidence), domain
    )
    assert slot_events(found) == ({slot: text} if kept else {})


@pytest.mark.parametrize(
    ("slot", "text", "confidence"),
    [
        ("evidence_author", "@zorglub_vindicatif", 0.54),
        ("evidence_author", "@zorglub_vindicatif", 0.95),  # a handle is never a question
        ("evidence_url", "https://x.com/zorglub/status/42", 0.9),
    ],
)
async def test_a_handle_or_a_link_read_as_a_question_is_the_answer(
    domain: dict[str, Any], slot: str, text: str, confidence: float
) -> None:
    tracker = make_tracker(
        text, intent="faq", slots={"requested_slot": slot}, active_loop="evidence_form"
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateEvidenceForm().run(dispatcher, _reading(tracker, confidence), domain)
    assert slot_events(events)[slot] == text
    assert responses(dispatcher) == []


@pytest.mark.parametrize(
    ("requested", "response"),
    [("practice", "utter_not_understood_answer"), ("public", "utter_not_understood_choice")],
)
async def test_a_misunderstood_triage_answer_offers_a_way_on(
    domain: dict[str, Any], requested: str, response: str
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "bof", intent="inform", slots={"requested_slot": requested}, active_loop="triage_form"
    )
    await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [response]
    text = domain["responses"][response][0]["text"]
    assert "« annuler »" in text
    assert ("« je ne sais pas »" in text) == (requested in triage.DONT_KNOW_VALUES)


@pytest.mark.parametrize(
    "response",
    [
        # Questions that cannot be skipped: without a way out the doctor would be stuck.
        "utter_complaint_name_incomplete",
        "utter_complaint_city_unreadable",
        "utter_complaint_date_unreadable",
        "utter_evidence_seen_unreadable",
        "utter_evidence_author_empty",
        "utter_complaint_in_progress",
        "utter_form_help",
    ],
)
def test_a_refused_answer_says_how_to_stop(domain: dict[str, Any], response: str) -> None:
    assert "« annuler »" in domain["responses"][response][0]["text"]
