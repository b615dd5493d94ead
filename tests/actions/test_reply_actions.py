"""« Je veux répondre » : the rules, the rung's warning, the draft asked and reviewed, the
proposal used (actions/reply.py), with the real domain and a real case store."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.reply import (
    ActionReviewReply,
    ActionStartReply,
    ActionUseReplyProposal,
    ValidateReplyForm,
    format_count,
)
from riposte.chat import complaint, reply
from riposte.knowledge import load as load_knowledge
from riposte.letters.reply_check import check_reply
from tests.actions.conftest import TODAY
from tests.actions.test_case_actions import message, start_case
from tests.actions.test_danger_actions import THREAT, typed
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

FORM = "reply_form"
ASKING = {"requested_slot": "reply_draft"}
BAD_DRAFT = (
    "Bonjour Monsieur Lebrun, votre arrêt de travail n'était pas justifié. Je regrette que "
    "votre passage ait laissé une impression aussi négative. Bien cordialement, Claire Martin"
)


def review_tracker(draft: str, slots: dict[str, Any] | None = None) -> Any:
    events = [{"event": "action", "name": "reply_form"}]
    return make_tracker("x", slots={"reply_draft": draft, **(slots or {})}, events=events)


async def test_the_rules_come_first_with_their_sources_and_the_draft_is_cleared(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("je veux répondre", intent="request_reply_help")
    events = await ActionStartReply().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_reply_rules"]
    sources = message(dispatcher, "utter_reply_rules")["sources"]
    assert load_knowledge().sources["S1"].url in sources
    assert slot_events(events) == {"reply_draft": None, "reply_proposal": None}


async def test_where_a_reply_is_not_advised_the_first_message_says_why(
    domain: dict[str, Any],
) -> None:
    _code, _secret, slots = await start_case(domain)  # a raid of insults: illicit
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("et si je veux répondre ?", intent="request_reply_help", slots=slots)
    await ActionStartReply().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_reply_not_recommended", "utter_reply_rules"]
    why = message(dispatcher, "utter_reply_not_recommended")["why"]
    assert why == load_knowledge().messages.get("ladder.pacifique.illicit")


async def test_another_version_skips_the_rules_already_given(domain: dict[str, Any]) -> None:
    events = [
        {"event": "action", "name": "action_review_reply"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/request_reply_help"},
    ]
    tracker = make_tracker(
        "/request_reply_help",
        intent="request_reply_help",
        slots={"reply_draft": "ancienne version", "reply_proposal": "proposition"},
        events=events,
    )
    dispatcher = CollectingDispatcher()
    found = slot_events(await ActionStartReply().run(dispatcher, tracker, domain))
    assert dispatcher.messages == []
    assert found == {"reply_draft": None, "reply_proposal": None}  # the form asks again


async def test_a_request_that_reveals_a_danger_gets_17_112_first(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(f"je veux répondre, {THREAT}", intent="request_reply_help")
    events = await ActionStartReply().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    assert slot_events(events)["urgent"] is True


async def test_the_draft_is_kept_as_typed_html_and_template_syntax_included(
    domain: dict[str, Any],
) -> None:
    draft = "<b>Merci</b> pour {{ 7*7 }} votre retour {name}."
    dispatcher = CollectingDispatcher()
    result = await ValidateReplyForm().validate_reply_draft(
        f"  {draft} \n", dispatcher, make_tracker(draft, slots=ASKING), domain
    )
    assert result == {"reply_draft": draft} and dispatcher.messages == []


async def test_a_too_long_draft_is_refused_with_the_limit(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    text = "Merci. " * 600
    result = await ValidateReplyForm().validate_reply_draft(
        text, dispatcher, make_tracker("x", slots=ASKING), domain
    )
    assert result == {"reply_draft": None}
    refused = message(dispatcher, "utter_reply_draft_too_long")
    assert (refused["length"], refused["limit"]) == (format_count(len(text.strip())), "3 000")


def test_the_question_says_the_same_limit(domain: dict[str, Any]) -> None:
    asked = domain["responses"]["utter_ask_reply_draft"][0]
    assert f"{format_count(reply.MAX_DRAFT)} caractères" in asked["text"]
    assert [b["payload"] for b in asked["buttons"]] == ["/cancel"]


async def test_the_draft_cleared_at_the_start_is_asked_without_a_complaint(
    domain: dict[str, Any],
) -> None:
    """action_start_reply clears the slot in the same turn: the form validates it too, and
    must then just ask (no « je n'ai rien reçu »)."""
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "je veux répondre"},
        {"event": "action", "name": "action_start_reply"},
        {"event": "slot", "name": "reply_draft", "value": None},
        {"event": "slot", "name": "reply_proposal", "value": None},
    ]
    tracker = make_tracker(
        "je veux répondre", intent="request_reply_help", events=events, active_loop=FORM
    )
    dispatcher = CollectingDispatcher()
    found = slot_events(await ValidateReplyForm().run(dispatcher, tracker, domain))
    assert dispatcher.messages == []
    assert found.get("reply_draft") is None


async def test_an_empty_draft_is_asked_again(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateReplyForm().validate_reply_draft(
        "   ", dispatcher, make_tracker("x", slots=ASKING), domain
    )
    assert result == {"reply_draft": None}
    assert responses(dispatcher) == ["utter_reply_draft_empty"]


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "kept"),
    [
        # A pasted reply read as a question: many words, it is the draft.
        (
            "Bonjour, merci pour votre message ; pouvez-vous contacter le cabinet directement "
            "pour que nous en parlions ?",
            "faq",
            0.95,
            True,
        ),
        ("pourquoi vous me demandez ça ?", "ask_why", 0.97, False),  # a real digression
        ("merci de votre retour", "request_help", 0.5, True),  # low confidence: the draft
    ],
)
async def test_a_draft_read_as_a_digression_is_kept_when_it_is_one(
    domain: dict[str, Any], text: str, intent: str, confidence: float, kept: bool
) -> None:
    tracker = typed(text, intent, FORM, dict(ASKING))
    tracker.latest_message["intent"] = {"name": intent, "confidence": confidence}
    events = await ValidateReplyForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events).get("reply_draft") == (text if kept else None)


async def test_a_danger_typed_in_the_draft_gets_17_112_first_and_the_draft_is_kept(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = typed(THREAT, "report_emergency", FORM, dict(ASKING), {"reply_draft": THREAT})
    events = await ValidateReplyForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_emergency"]
    found = slot_events(events)
    assert found["reply_draft"] == THREAT and found["urgent"] is True
    assert found.get("requested_slot") is None  # nothing more to ask: the draft is reviewed


async def test_a_clean_draft_is_accepted(domain: dict[str, Any]) -> None:
    draft = (
        "Bonjour, je regrette que votre expérience ne vous ait pas satisfait. Toute personne "
        "qui le souhaite peut contacter le cabinet directement. Cordialement."
    )
    dispatcher = CollectingDispatcher()
    events = await ActionReviewReply().run(dispatcher, review_tracker(draft), domain)
    assert responses(dispatcher) == ["utter_reply_clean"]
    assert slot_events(events) == {"reply_proposal": None}
    buttons = domain["responses"]["utter_reply_clean"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/request_reply_help"]


async def test_problems_are_listed_with_a_proposal_and_the_three_choices(
    domain: dict[str, Any],
) -> None:
    code, _secret, slots = await start_case(domain)
    named = complaint.record_answer("letter_name", "Claire Martin", code, "test", TODAY)
    assert not named.failed
    dispatcher = CollectingDispatcher()
    tracker = review_tracker(BAD_DRAFT, {"case_code": code})
    events = await ActionReviewReply().run(dispatcher, tracker, domain)
    text = message(dispatcher, "utter_reply_problems")["review"]
    assert "Monsieur Lebrun »" in text and "« arrêt de travail »" in text
    # The doctor's own name, known from the case, is not a problem.
    assert "« Claire Martin »" not in text
    proposal = slot_events(events)["reply_proposal"]
    assert proposal in text and "Lebrun" not in proposal and "arrêt" not in proposal
    assert check_reply(proposal, own_names=["Claire", "Martin"]) == []
    buttons = domain["responses"]["utter_reply_problems"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/request_reply_help", "/affirm", "/cancel"]
    assert [b["title"] for b in buttons] == [
        "Vérifier une autre version",
        "Utiliser la proposition",
        "Annuler",
    ]

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/affirm", intent="affirm", slots={"reply_proposal": proposal})
    await ActionUseReplyProposal().run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_reply_proposal")["proposal"] == proposal


async def test_no_proposal_to_use_is_said(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionUseReplyProposal().run(dispatcher, make_tracker("oui", intent="affirm"), domain)
    assert responses(dispatcher) == ["utter_reply_no_proposal"]


def test_every_response_the_actions_send_exists(domain: dict[str, Any]) -> None:
    for name in (
        "utter_reply_rules",
        "utter_reply_not_recommended",
        "utter_reply_draft_empty",
        "utter_reply_draft_too_long",
        "utter_reply_clean",
        "utter_reply_problems",
        "utter_reply_proposal",
        "utter_reply_no_proposal",
        "utter_reply_cancelled",
    ):
        assert domain["responses"][name][0]["text"].strip(), name


def after_review(text: str, intent: str = "inform") -> Any:
    """The tracker of a text typed right after a review that found problems."""
    events = [
        {"event": "action", "name": "reply_form"},
        {"event": "action", "name": "action_review_reply"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ]
    slots = {"reply_draft": BAD_DRAFT, "reply_proposal": "proposée"}
    return make_tracker(text, intent=intent, slots=slots, events=events)


async def test_a_version_typed_after_the_review_replaces_the_draft_and_is_reviewed(
    domain: dict[str, Any],
) -> None:
    new = "Je regrette votre ressenti ; le cabinet reste joignable pour en parler."
    dispatcher = CollectingDispatcher()
    events = await ActionReviewReply().run(dispatcher, after_review(new), domain)
    assert responses(dispatcher) == ["utter_reply_clean"]
    assert slot_events(events) == {"reply_draft": new, "reply_proposal": None}


async def test_a_too_long_version_after_the_review_keeps_the_previous_one(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionReviewReply().run(dispatcher, after_review("Merci. " * 600), domain)
    assert responses(dispatcher) == ["utter_reply_draft_too_long"]
    assert slot_events(events) == {}  # the draft and the proposal stay as they were


async def test_a_danger_typed_after_the_review_gets_17_112_first(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionReviewReply().run(dispatcher, after_review(THREAT), domain)
    assert responses(dispatcher)[0] == "utter_emergency"
    found = slot_events(events)
    assert found["urgent"] is True and found["reply_draft"] == THREAT


async def test_the_draft_of_the_form_is_reviewed_not_the_message(domain: dict[str, Any]) -> None:
    """Right after the form, the draft is the slot's (the message was the form's answer)."""
    events = [
        {"event": "action", "name": "reply_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": BAD_DRAFT},
        {"event": "action", "name": "reply_form"},
    ]
    tracker = make_tracker(BAD_DRAFT, intent="inform", slots={"reply_draft": BAD_DRAFT})
    tracker.events = events
    dispatcher = CollectingDispatcher()
    found = slot_events(await ActionReviewReply().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_reply_problems"]
    assert "reply_draft" not in found and found["reply_proposal"]
