"""The forms' slot lists live in domain/ and in Python: they must stay the same."""

from __future__ import annotations

from typing import Any

import pytest

from riposte.chat import complaint as chat
from riposte.chat import drafts, notice, reply, triage
from riposte.chat.evidence import EVIDENCE_SLOTS

# The letters' forms, in the order domain/ lists the conditions of a question they share (the
# complaint's name, story and statement; the notice's platform, e-mail and address).
LETTER_FORMS = {
    "complaint_form": chat.QUESTIONS,
    "notice_form": notice.QUESTIONS,
    "draft_form": drafts.QUESTIONS,
}


@pytest.mark.parametrize(
    ("form", "slots"),
    [
        ("evidence_form", EVIDENCE_SLOTS),
        ("complaint_form", chat.QUESTIONS),
        ("notice_form", notice.QUESTIONS),
        ("reply_form", reply.FORM_SLOTS),
        ("draft_form", drafts.QUESTIONS),
    ],
)
def test_form_slots_match_the_python_lists(
    domain: dict[str, Any], form: str, slots: tuple[str, ...]
) -> None:
    assert domain["forms"][form]["required_slots"] == list(slots)
    for slot in slots:
        mapping = domain["slots"][slot]["mappings"][0]
        assert mapping["type"] == "from_text", slot
        forms = [name for name, asked in LETTER_FORMS.items() if slot in asked] or [form]
        assert mapping["conditions"] == [
            {"active_loop": name, "requested_slot": slot} for name in forms
        ]
        assert f"utter_ask_{slot}" in domain["responses"], slot
    # The notice and the letters ask the site with buttons (action_ask_notice_platform).
    assert "action_ask_notice_platform" in domain["actions"]
    assert "action_ask_draft_form_notice_platform" in domain["actions"]


def test_every_notice_question_has_its_why(domain: dict[str, Any]) -> None:
    """« Pourquoi ? » during the notice (action_explain_notice_question)."""
    for slot in notice.QUESTIONS:
        assert domain["responses"][f"utter_why_notice_{slot}"][0]["text"].strip(), slot


@pytest.mark.parametrize("key", sorted(notice.OWN_MESSAGES))
def test_every_notice_reading_message_has_a_french_response(
    domain: dict[str, Any], key: str
) -> None:
    assert domain["responses"][notice.response_for(key)][0]["text"].strip()


@pytest.mark.parametrize("check", sorted(notice.EXPLAINED))
def test_every_refusal_the_notice_explains_has_a_response(
    domain: dict[str, Any], check: str
) -> None:
    from riposte.letters.build import CHECKS, load_requirements

    assert check in load_requirements().kinds[notice.KIND].checks_first
    assert check in CHECKS
    assert domain["responses"][f"utter_notice_refused_{check}"][0]["text"].strip()


def test_the_triage_questions_are_the_domains(domain: dict[str, Any]) -> None:
    """riposte.chat.triage asks them in this order (no Rasa there to read the domain)."""
    assert domain["forms"]["triage_form"]["required_slots"] == list(triage.REQUIRED_SLOTS)
    assert set(triage.REQUIRED_SLOTS) <= set(triage.FACT_SLOTS)


@pytest.mark.parametrize(
    "response",
    [
        # riposte.nlp.evidence.read_published_at
        "utter_evidence_published_unreadable",
        "utter_evidence_published_in_future",
        "utter_evidence_published_after_seen",
        # riposte.chat.complaint.read_answer, birth questions
        "utter_complaint_birth_date_unreadable",
        "utter_complaint_birth_date_future",
        "utter_complaint_birth_date_implausible",
        "utter_complaint_birth_skipped",
        "utter_complaint_too_long",
        "utter_complaint_empty",
    ],
)
def test_every_reading_error_has_a_french_response(domain: dict[str, Any], response: str) -> None:
    assert domain["responses"][response][0]["text"].strip()
