"""A public reply proof-read in the chat (riposte.chat.reply): the draft read, the review, the
proposal (always clean), the text shown, the sources and the rung's reason."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from riposte.chat import reply, triage
from riposte.knowledge import load as load_knowledge
from riposte.letters.reply_check import check_reply, suggest_neutral_reply
from tests.slots import lawful_review

TODAY = datetime.date(2026, 11, 24)
LAWFUL_REVIEW: dict[str, Any] = lawful_review()
# Names the patient, confirms the care, gives a date and a diagnosis; one sentence is fine.
BAD_DRAFT = (
    "Bonjour Madame Dupont. Lors de votre consultation du 12 mars, votre diabète était mal "
    "équilibré. Je regrette sincèrement que votre expérience au cabinet ait été décevante. "
    "Cordialement, Dr Martin."
)
CLEAN_DRAFT = (
    "Bonjour, merci pour votre message. Le secret médical ne me permet pas de commenter une "
    "situation particulière. Toute personne qui le souhaite peut contacter le cabinet. "
    "Cordialement."
)


def test_a_draft_is_taken_as_typed() -> None:
    draft = reply.read_draft("  <b>Merci</b> {{ 7*7 }} pour votre retour.\n")
    assert (draft.text, draft.error) == ("<b>Merci</b> {{ 7*7 }} pour votre retour.", None)


@pytest.mark.parametrize("text", ["", "   \n ", None])
def test_an_empty_draft_is_refused(text: str | None) -> None:
    assert reply.read_draft(text).error == "empty"


def test_the_limit_is_inclusive_and_a_longer_draft_is_refused_with_its_length() -> None:
    assert reply.read_draft("a" * reply.MAX_DRAFT).error is None
    too_long = reply.read_draft("a" * (reply.MAX_DRAFT + 1))
    assert (too_long.error, too_long.text, too_long.length) == (
        "too_long",
        None,
        reply.MAX_DRAFT + 1,
    )


def test_a_clean_draft_has_no_finding_and_no_proposal() -> None:
    result = reply.review(CLEAN_DRAFT)
    assert result.clean and result.proposal is None


def test_a_draft_naming_the_patient_and_a_diagnosis_gets_a_proposal_from_itself() -> None:
    result = reply.review(BAD_DRAFT, names=["Claire", "Martin"])
    found = {(f.kind, f.excerpt) for f in result.findings}
    assert {
        ("person_name", "Madame Dupont"),
        ("care_relationship", "Lors de votre consultation"),
        ("consultation_detail", "12 mars"),
        ("health_term", "diabète"),
    } <= found
    # The doctor's own name, in the signature, is not a problem.
    assert not any("Martin" in f.excerpt for f in result.findings)
    assert result.from_draft
    proposal = str(result.proposal)
    # The greeting, removed with the name, is kept.
    assert proposal.startswith("Bonjour, je regrette sincèrement")
    assert "expérience au cabinet ait été décevante" in proposal
    for excerpt in ("Dupont", "consultation du", "diabète", "12 mars"):
        assert excerpt not in proposal
    # An invitation to make contact privately, placed before the sign-off.
    assert proposal.endswith("le cabinet. Cordialement, Dr Martin.")
    assert check_reply(proposal, own_names=["Claire", "Martin"]) == []


def test_nothing_left_after_the_problems_gives_the_neutral_reply() -> None:
    result = reply.review("Vous êtes un MENTEUR !!! Votre IRM était normale. Cordialement.")
    assert not result.from_draft
    assert result.proposal == suggest_neutral_reply()
    assert check_reply(str(result.proposal)) == []


def test_a_proposal_that_would_still_be_flagged_is_not_offered() -> None:
    """The sentences left are checked again as a whole: a drafted wording that the check
    would flag (here a health term split from its finding by the sentence cut) falls back
    to the neutral reply."""
    draft = "Je regrette votre ressenti sur l'accueil du cabinet. Votre IRM était normale."
    findings = [f for f in check_reply(draft) if f.kind != "health_term"]
    proposal, from_draft = reply.propose(draft, findings)
    assert (proposal, from_draft) == (suggest_neutral_reply(), False)


def test_the_review_text_quotes_each_problem_and_explains_it_once_per_kind() -> None:
    result = reply.review("C'est FAUX ET MENSONGER. Quel mensonge !! Merci de votre message.")
    text = reply.review_text(result)
    assert text.startswith(f"J'ai repéré {len(result.findings)} passage(s)")
    assert "« FAUX ET MENSONGER »" in text and "« mensonge »" in text
    explanation = result.findings[0].explanation
    assert text.count(explanation) == 1 and "(même raison)" in text
    assert str(result.proposal) in text


def test_html_and_template_syntax_are_quoted_as_plain_text() -> None:
    draft = "<script>alert(1)</script> {{ 7*7 }} {name} Votre IRM était normale."
    text = reply.review_text(reply.review(draft, use_ner=False))
    assert "« IRM »" in text
    result = reply.review("{name} et <b>ma patiente</b> {{ 7*7 }}, merci.", use_ner=False)
    assert "« ma patiente »" in reply.review_text(result)


def test_own_names_come_from_the_case() -> None:
    case = {"victim": {"first_name": " Claire ", "last_name": "Martin", "city": "Nantes"}}
    assert reply.own_names(case) == ["Claire", "Martin"]
    assert reply.own_names(None) == [] and reply.own_names({"victim": None}) == []


def test_the_sources_are_those_of_the_knowledge_files() -> None:
    kb = load_knowledge()
    text = reply.sources_text()
    for key in reply.RULES_SOURCES:
        assert kb.sources[key].url in text and kb.sources[key].title in text


def test_no_warning_where_a_public_reply_is_recommended() -> None:
    advice = triage.advice_for(LAWFUL_REVIEW, TODAY)
    assert reply.not_recommended_why(advice) is None


def test_a_threat_gets_the_ladders_reason_for_not_replying() -> None:
    slots = {**LAWFUL_REVIEW, "offenses": ["threat"], "lawful_criticism": False}
    advice = triage.advice_for(slots, TODAY)
    rung = next(r for r in advice.ladder if r.level == "pacifique")
    assert not rung.recommended
    assert reply.not_recommended_why(advice) == rung.why
