"""The notice to a platform from the chat: questions asked, answers read, refusals named
(pure parts; tests/actions/test_notice_actions.py runs them against a store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from riposte.case import load_case
from riposte.chat import notice
from riposte.letters.build import LetterError, LetterOptions, build_letter

TODAY = dt.date(2026, 11, 24)
URL = "https://www.tiktok.com/@zorglub/video/123"
FULL: dict[str, Any] = {
    "victim": {"first_name": "Camille", "last_name": "Martin", "email": "c@martin.fr"},
    "incident": {
        "platforms": ["tiktok"],
        "offenses": ["insult"],
        "first_published": "2026-11-02",
        "public": True,
        "summary": "Un compte me traite d'escroc.",
    },
    "evidence": [{"url": URL, "excerpt": "escroc"}],
}


def test_only_what_the_case_lacks_is_asked() -> None:
    assert notice.questions_for({}, None) == list(notice.QUESTIONS)
    assert notice.questions_for(FULL, "tiktok") == []
    # A statement without address (kept for the complaint) does not locate the content.
    partial = {**FULL, "evidence": [{"excerpt": "escroc"}], "victim": {"first_name": "Camille"}}
    assert notice.questions_for(partial, "tiktok") == [
        "letter_name",
        "notice_email",
        "notice_url",
        "letter_statement",
        "letter_statement_date",
    ]


@pytest.mark.parametrize(
    ("text", "choice", "key"),
    [
        ("/inform", "notice_platform=google_reviews", "google_reviews"),
        ("x", "notice_platform=facebook", None),  # not one of the choices
        ("sur tiktok", None, "tiktok"),
        ("Avis Google (fiche d'établissement)", None, "google_reviews"),
        ("les deux", None, None),
        ("TikTok et Google", None, None),
    ],
)
def test_the_platform_is_a_button_or_its_name(
    text: str, choice: str | None, key: str | None
) -> None:
    reading = notice.read_platform(text, choice, ["tiktok", "google_reviews"], TODAY)
    assert (reading.keep, reading.error) == (key, None if key else "platform_unknown")


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (
            "notice_email",
            "c'est camille.martin@exemple.fr.",
            {"patch": {"victim": {"email": "camille.martin@exemple.fr"}}},
        ),
        ("notice_email", "camille at exemple", {"error": "email_unreadable"}),
        ("notice_email", "a@b", {"error": "email_unreadable"}),
        ("notice_url", "voici www.exemple.fr/avis/1", {"keep": "https://www.exemple.fr/avis/1"}),
        ("notice_url", "aucune", {"error": "url_needed"}),
        ("notice_url", "sur ma fiche", {"error": "url_unreadable"}),
        ("notice_url", "https://x.fr/" + "a" * 3000, {"error": "too_long"}),
        ("letter_statement", "« escroc »", {"keep": "« escroc »"}),
        # A quote starting like a skip word is still a quote.
        ("letter_statement", "non mais quel charlatan", {"keep": "non mais quel charlatan"}),
        (
            "letter_name",
            "Dr Camille Martin",
            {"patch": {"victim": {"first_name": "Camille", "last_name": "Martin"}}},
        ),
    ],
)
def test_answers_are_read(question: str, answer: str, expected: dict[str, Any]) -> None:
    reading = notice.read_answer(question, answer, {}, TODAY)
    assert {k: v for k, v in vars(reading).items() if v not in (None, ())} == expected


def test_the_content_is_recorded_with_its_address_quote_and_date() -> None:
    dated = notice.read_answer(
        "letter_statement_date", "le 20/11", {}, TODAY, url=URL, statement="« escroc »"
    )
    assert dated.evidence == {"url": URL, "excerpt": "« escroc »", "published_at": "2026-11-20"}
    skipped = notice.read_answer("letter_statement", "Passer.", {}, TODAY, url=URL)
    assert (skipped.evidence, skipped.settles, skipped.note) == (
        {"url": URL},
        ("letter_statement_date",),
        "quote_skipped",
    )


def test_reading_messages_are_the_notice_s_or_the_complaint_s() -> None:
    assert notice.response_for("url_needed") == "utter_notice_url_needed"
    assert notice.response_for("name_incomplete") == "utter_complaint_name_incomplete"


def test_the_notice_is_written_from_the_evidence_that_has_an_address() -> None:
    case = load_case({**FULL, "evidence": [{"excerpt": "sans adresse"}, *FULL["evidence"]]}, TODAY)
    document = build_letter(notice.with_addresses(case), notice.KIND, TODAY)
    text = document.section_text("body")
    assert URL in text and "sans adresse" not in text
    with pytest.raises(LetterError) as refused:
        build_letter(case, notice.KIND, TODAY)  # the builder alone wants every address
    assert refused.value.check == "missing"


@pytest.mark.parametrize(
    ("platforms", "options", "check"),
    [
        ([], LetterOptions(), "platform_chosen"),
        (["tiktok", "google_reviews"], LetterOptions(), "platform_chosen"),
        (["email"], LetterOptions(), "platform_online"),
    ],
)
def test_a_refusal_names_its_check(
    platforms: list[str], options: LetterOptions, check: str
) -> None:
    """The chat explains each refusal in its own words (actions/notice.py)."""
    case = load_case({**FULL, "incident": {**FULL["incident"], "platforms": platforms}}, TODAY)
    with pytest.raises(LetterError) as refused:
        build_letter(case, notice.KIND, TODAY, options)
    assert refused.value.check == check
