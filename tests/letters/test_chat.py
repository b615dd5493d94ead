"""The complaint from the chat: questions asked, answers read, links signed (pure parts)."""

from __future__ import annotations

import datetime as dt

import pytest

from riposte.letters import chat, links

TODAY = dt.date(2026, 11, 24)
FULL = {
    "victim": {
        "first_name": "Camille",
        "last_name": "Martin",
        "address": "3 rue Haute",
        "postal_code": "44000",
        "city": "Nantes",
    },
    "court_city": "Nantes",
    "incident": {"first_published": "2026-11-02", "summary": "Un compte me traite d'escroc."},
    "evidence": [{"excerpt": "escroc"}],
}


def test_only_what_the_case_lacks_is_asked() -> None:
    assert chat.questions_for({}) == list(chat.QUESTIONS)
    assert chat.questions_for(FULL) == []
    partial = {**FULL, "victim": {**FULL["victim"], "address": " "}, "evidence": [{"url": "u"}]}
    assert chat.questions_for(partial) == ["letter_address", "letter_statement"]


@pytest.mark.parametrize(
    ("question", "answer", "patch"),
    [
        (
            "letter_name",
            "Dr Camille  Martin-Durand",
            {"victim": {"first_name": "Camille", "last_name": "Martin-Durand"}},
        ),
        (
            "letter_name",
            "{{ 7*7 }} <b>x</b>",
            {"victim": {"first_name": "{{", "last_name": "7*7 }} <b>x</b>"}},
        ),
        ("letter_address", " 3  rue Haute ", {"victim": {"address": "3 rue Haute"}}),
        ("letter_city", "44000 Nantes", {"victim": {"postal_code": "44000", "city": "Nantes"}}),
        (
            "letter_city",
            "Saint-Herblain, 44800",
            {"victim": {"postal_code": "44800", "city": "Saint-Herblain"}},
        ),
        ("letter_court_city", "la même", {"court_city": "Nantes"}),
        ("letter_court_city", "Saint-Nazaire", {"court_city": "Saint-Nazaire"}),
        ("letter_first_published", "le 3 octobre", {"incident": {"first_published": "2026-10-03"}}),
        (
            "letter_summary",
            "Depuis octobre un compte publie des insultes.",
            {"incident": {"summary": "Depuis octobre un compte publie des insultes."}},
        ),
    ],
)
def test_answers_become_case_patches(question: str, answer: str, patch: dict) -> None:
    assert chat.read_answer(question, answer, FULL, TODAY) == chat.Reading(patch)


def test_statement_becomes_an_evidence_item() -> None:
    reading = chat.read_answer("letter_statement", "« escroc »\nligne 2", FULL, TODAY)
    assert reading == chat.Reading(evidence={"excerpt": "« escroc »\nligne 2"})


@pytest.mark.parametrize(
    ("question", "answer", "error"),
    [
        ("letter_name", "Camille", "name_incomplete"),
        ("letter_name", "a " + "b" * 200, "too_long"),
        ("letter_city", "Nantes", "city_unreadable"),
        ("letter_city", "44000", "city_unreadable"),
        ("letter_first_published", "bof", "date_unreadable"),
        ("letter_summary", "insultes", "summary_short"),
        ("letter_summary", "x" * 50_000, "summary_long"),
        ("letter_statement", "x" * 50_000, "statement_long"),
        ("letter_address", "   ", "empty"),
    ],
)
def test_bad_answers_are_explained(question: str, answer: str, error: str) -> None:
    assert chat.read_answer(question, answer, FULL, TODAY).error == error


def test_summary_shows_what_the_complaint_will_say() -> None:
    text = chat.summary_text(FULL)
    assert "Camille Martin, 3 rue Haute, 44000 Nantes" in text
    assert "tribunal judiciaire : Nantes" in text
    assert "propos cités : 1" in text


def test_links_are_signed_and_expire() -> None:
    key = b"k" * 32
    token = links.make_token(key, "RIP-7KQ2-M9", 2, now=1000)
    assert links.read_token(key, token, now=1001) == links.LetterLink(
        "RIP-7KQ2-M9", 2, 1000 + links.LINK_SECONDS
    )
    assert links.read_token(key, token, now=1001 + links.LINK_SECONDS) is None
    assert links.read_token(b"x" * 32, token, now=1001) is None
    payload, mac = token.split(".")
    forged = links.make_token(key, "RIP-0000-00", 2, now=1000).split(".")[0]
    assert links.read_token(key, f"{forged}.{mac}", now=1001) is None
    assert links.read_token(key, "not-a-token", now=1001) is None
    assert links.read_token(key, "a.b.c", now=1001) is None
