"""The forms' slot lists live in domain/ and in Python: they must stay the same."""

from __future__ import annotations

from typing import Any

import pytest

from riposte.chat import complaint as chat
from riposte.chat import reply, triage
from riposte.chat.evidence import EVIDENCE_SLOTS


@pytest.mark.parametrize(
    ("form", "slots"),
    [
        ("evidence_form", EVIDENCE_SLOTS),
        ("complaint_form", chat.QUESTIONS),
        ("reply_form", reply.FORM_SLOTS),
    ],
)
def test_form_slots_match_the_python_lists(
    domain: dict[str, Any], form: str, slots: tuple[str, ...]
) -> None:
    assert domain["forms"][form]["required_slots"] == list(slots)
    for slot in slots:
        mapping = domain["slots"][slot]["mappings"][0]
        assert mapping["type"] == "from_text", slot
        assert mapping["conditions"] == [{"active_loop": form, "requested_slot": slot}]
        assert f"utter_ask_{slot}" in domain["responses"], slot


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
