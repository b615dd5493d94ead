"""The complaint from the chat: questions asked, answers read, links signed (pure parts)."""

from __future__ import annotations

import datetime as dt

import pytest

from riposte.chat import complaint as chat
from riposte.letters import links

TODAY = dt.date(2026, 11, 24)
FULL = {
    "victim": {
        "first_name": "Camille",
        "last_name": "Martin",
        "address": "3 rue Haute",
        "postal_code": "44000",
        "city": "Nantes",
        "birth_date": "1978-03-12",
        "birth_place": "Rezé",
    },
    "court_city": "Nantes",
    "incident": {"first_published": "2026-11-02", "summary": "Un compte me traite d'escroc."},
    "evidence": [{"excerpt": "escroc"}],
}


def test_only_what_the_case_lacks_is_asked() -> None:
    assert chat.questions_for({}) == list(chat.QUESTIONS)
    assert chat.questions_for(FULL) == []
    partial = {**FULL, "victim": {**FULL["victim"], "address": " "}, "evidence": [{"url": "u"}]}
    assert chat.questions_for(partial) == [
        "letter_address",
        "letter_statement",
        "letter_statement_date",
    ]


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


def test_birth_data_is_asked_when_absent() -> None:
    """Date and place of birth complete the complainant's identity (service-public.fr F21613)."""
    victim = {k: v for k, v in FULL["victim"].items() if not k.startswith("birth")}
    assert chat.questions_for({**FULL, "victim": victim}) == [
        "letter_birth_date",
        "letter_birth_place",
    ]


@pytest.mark.parametrize(
    ("question", "answer", "patch"),
    [
        ("letter_birth_date", "12/03/1978", {"victim": {"birth_date": "1978-03-12"}}),
        ("letter_birth_date", "né le 12 mars 1978", {"victim": {"birth_date": "1978-03-12"}}),
        ("letter_birth_date", "12/03/78", {"victim": {"birth_date": "1978-03-12"}}),
        ("letter_birth_place", " Saint-Herblain ", {"victim": {"birth_place": "Saint-Herblain"}}),
        # Town names that begin like a skip word are places, not skips.
        ("letter_birth_place", "Nontron", {"victim": {"birth_place": "Nontron"}}),
        ("letter_birth_place", "Blanc-Mesnil", {"victim": {"birth_place": "Blanc-Mesnil"}}),
        # HTML and template syntax are kept as typed (the letters print values verbatim).
        (
            "letter_birth_place",
            "<b>Lyon</b> {{ 7*7 }}",
            {"victim": {"birth_place": "<b>Lyon</b> {{ 7*7 }}"}},
        ),
    ],
)
def test_birth_answers_become_victim_fields(question: str, answer: str, patch: dict) -> None:
    assert chat.read_answer(question, answer, FULL, TODAY) == chat.Reading(patch)


@pytest.mark.parametrize("question", ["letter_birth_date", "letter_birth_place"])
@pytest.mark.parametrize(
    "answer",
    ["passer", "je préfère ne pas le dire", "non", "Plus tard", "je la compléterai moi-même"],
)
def test_birth_questions_can_be_skipped(question: str, answer: str) -> None:
    """Optional: a skip writes nothing and the complaint leaves a blank to fill by hand."""
    assert chat.read_answer(question, answer, FULL, TODAY) == chat.Reading(note="birth_skipped")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("le 3 mars 2030", "birth_date_future"),
        ("demain", "birth_date_future"),
        ("hier", "birth_date_implausible"),
        ("12/03/2015", "birth_date_implausible"),
        ("bof", "birth_date_unreadable"),
        ("{{ 7*7 }}", "birth_date_unreadable"),
        ("<script>alert(1)</script>", "birth_date_unreadable"),
        ("1" * 50_000, "too_long"),
        ("   ", "empty"),
    ],
)
def test_bad_birth_dates_are_refused(answer: str, error: str) -> None:
    assert chat.read_answer("letter_birth_date", answer, FULL, TODAY).error == error


def test_long_birth_place_is_refused() -> None:
    assert chat.read_answer("letter_birth_place", "x" * 50_000, FULL, TODAY).error == "too_long"


def test_statement_waits_for_its_date_then_becomes_an_evidence_item() -> None:
    """Art. 65 of the 1881 law: each statement prescribes from its own publication (S124)."""
    quoted = chat.read_answer("letter_statement", "« escroc »\nligne 2", FULL, TODAY)
    assert quoted == chat.Reading(keep="« escroc »\nligne 2")
    dated = chat.read_answer(
        "letter_statement_date", "le 20/11", FULL, TODAY, statement=quoted.keep
    )
    assert dated == chat.Reading(
        evidence={"excerpt": "« escroc »\nligne 2", "published_at": "2026-11-20"}
    )
    relative = chat.read_answer(
        "letter_statement_date", "il y a trois jours", FULL, TODAY, statement="« escroc »"
    )
    assert relative.evidence == {"excerpt": "« escroc »", "published_at": "2026-11-21"}


@pytest.mark.parametrize("answer", ["je ne sais pas", "passer", "aucune idée"])
def test_a_statement_of_unknown_date_is_recorded_undated(answer: str) -> None:
    reading = chat.read_answer("letter_statement_date", answer, FULL, TODAY, statement="« escroc »")
    assert reading == chat.Reading(evidence={"excerpt": "« escroc »"})


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("bof", "published_unreadable"),
        ("le 3 mars 2030", "published_in_future"),
        ("le même jour", "published_unreadable"),  # no sighting to be the same day as
        ("x" * 50_000, "published_unreadable"),
        ("   ", "empty"),
    ],
)
def test_bad_statement_dates_are_refused_and_the_statement_kept(answer: str, error: str) -> None:
    reading = chat.read_answer("letter_statement_date", answer, FULL, TODAY, statement="« escroc »")
    assert reading.error == error and reading.evidence is None


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
    assert "né(e) le 12/03/1978 à Rezé" in text
    victim = {k: v for k, v in FULL["victim"].items() if not k.startswith("birth")}
    assert "né(e) le …………… (à compléter à la main) à …" in chat.summary_text(
        {**FULL, "victim": victim}
    )
    assert "tribunal judiciaire : Nantes" in text
    assert "propos cités : 1" in text


def test_links_are_authenticated_and_expire() -> None:
    key = b"k" * 32
    token = links.make_token(key, "RIP-7KQ2-M9", 2, now=1000)
    assert links.read_token(key, token, now=1001) == links.LetterLink(
        "RIP-7KQ2-M9", 2, 1000 + links.LINK_SECONDS
    )
    assert links.read_token(key, token, now=1001 + links.LINK_SECONDS) is None
    assert links.read_token(b"x" * 32, token, now=1001) is None
    other = links.make_token(key, "RIP-0000-00", 2, now=1000)
    half = len(token) // 2
    assert links.read_token(key, other[:half] + token[half:], now=1001) is None
    assert links.read_token(key, "not-a-token", now=1001) is None
    assert links.read_token(key, "a.b.c", now=1001) is None
