"""The other letters from the chat: which letter a request names, the questions each one
asks, the answers read, the CNIL complaint after the erasure request (pure parts;
tests/actions/test_draft_actions.py runs them against a store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from riposte.case import load_case
from riposte.chat import drafts
from riposte.letters.build import LetterError, LetterOptions, build_letter

TODAY = dt.date(2026, 12, 7)
URL = "https://www.exemple-blog.fr/article/42"
FULL: dict[str, Any] = {
    "victim": {
        "first_name": "Camille",
        "last_name": "Martin",
        "email": "c@martin.fr",
        "address": "3 rue des Lilas",
        "postal_code": "44000",
        "city": "Nantes",
        "profession": "praticienne hospitalière",
        "practice": "hospital",
    },
    "incident": {
        "platforms": ["blog"],
        "offenses": ["defamation"],
        "first_published": "2026-11-20",
        "public": True,
        "summary": "Un blog affirme que j'ai falsifié des certificats.",
        "author": {"known": True, "relation": "patient", "name": "Jean Durand"},
    },
    "evidence": [{"url": URL, "excerpt": "elle falsifie des certificats"}],
}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("je veux demander l'effacement de mes données", "erasure_request"),
        ("faire supprimer ma fiche sur le site d'avis", "erasure_request"),
        ("une demande de déréférencement à Google", "erasure_request"),
        ("le site n'a pas répondu, je veux saisir la CNIL", "cnil_complaint"),
        ("plainte CNIL après ma demande d'effacement", "cnil_complaint"),
        ("exercer mon droit de réponse", "right_of_reply"),
        ("déclarer l'incident au conseil départemental de l'Ordre", "cdom_declaration"),
        ("decla au cdom stp", "cdom_declaration"),
        ("ma demande de protection fonctionnelle", "functional_protection"),
        ("écrire à l'auteur pour qu'il retire ses propos", "formal_notice"),
        ("une mise en demeure amiable", "formal_notice"),
        ("rédigez ma plainte au procureur", "procureur"),
        ("signaler l'avis à Google", "platform_notice"),
        ("rédigez-moi un courrier", None),
        ("", None),
    ],
)
def test_the_request_names_the_letter(text: str, kind: str | None) -> None:
    assert drafts.kind_from_text(text) == kind


def test_each_letter_asks_only_what_its_requirements_need() -> None:
    everything = {
        kind: drafts.questions_for(kind, {}, None, erasure_sent=False) for kind in drafts.KINDS
    }
    common = ["letter_name", "letter_address", "letter_city"]
    content = ["notice_url", "letter_statement", "letter_statement_date"]
    assert everything["erasure_request"] == [
        "notice_platform",
        *common,
        "notice_email",
        *content,
    ]
    assert everything["cnil_complaint"] == ["draft_erasure_date", *everything["erasure_request"]]
    assert everything["right_of_reply"] == [
        "notice_platform",
        *common,
        "letter_first_published",
        *content,
        "draft_reply",
    ]
    assert everything["cdom_declaration"] == [
        "letter_name",
        "letter_city",
        "letter_first_published",
        "letter_summary",
    ]
    assert everything["functional_protection"] == [
        "letter_name",
        "letter_city",
        "draft_profession",
        "letter_first_published",
        "letter_summary",
    ]
    assert everything["formal_notice"] == [
        *common,
        "draft_author",
        "letter_first_published",
        *content,
    ]
    # A full case leaves nothing to ask, but the reply's text (never stored in the case).
    asked = {kind: drafts.questions_for(kind, FULL, "blog") for kind in drafts.KINDS}
    assert asked == {kind: [] for kind in drafts.KINDS} | {"right_of_reply": ["draft_reply"]}


def test_a_letter_citing_each_statement_needs_a_quoted_content() -> None:
    located = {**FULL, "evidence": [{"url": URL}]}  # an address without its quote
    assert drafts.questions_for("erasure_request", located, "blog") == []
    assert drafts.questions_for("formal_notice", located, "blog") == [
        "notice_url",
        "letter_statement",
        "letter_statement_date",
    ]
    skipped = drafts.read_answer("formal_notice", "letter_statement", "passer", {}, TODAY, url=URL)
    assert skipped.error == "quote_needed"
    kept = drafts.read_answer("erasure_request", "letter_statement", "passer", {}, TODAY, url=URL)
    assert (kept.evidence, kept.note) == ({"url": URL}, "quote_skipped")


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (
            "draft_profession",
            "PH aux urgences",
            {"patch": {"victim": {"profession": "PH aux urgences"}}},
        ),
        ("draft_profession", "passer", {"error": "profession_empty"}),
        ("draft_profession", "x" * 101, {"error": "too_long"}),
        (
            "draft_author",
            "M. Jean Durand",
            {"patch": {"incident": {"author": {"name": "M. Jean Durand"}}}},
        ),
        ("draft_author", "   ", {"error": "author_empty"}),
        ("draft_reply", "Merci.", {"error": "reply_short"}),
        ("draft_reply", "a" * 5001, {"error": "reply_long"}),
        (
            "draft_reply",
            "  Je conteste ces affirmations, qui sont inexactes.  ",
            {"keep": "Je conteste ces affirmations, qui sont inexactes."},
        ),
        # The questions shared with the notice and the complaint are read as there.
        (
            "notice_email",
            "camille@exemple.fr",
            {"patch": {"victim": {"email": "camille@exemple.fr"}}},
        ),
        (
            "letter_city",
            "44000 Nantes",
            {"patch": {"victim": {"postal_code": "44000", "city": "Nantes"}}},
        ),
    ],
)
def test_answers_are_read(question: str, answer: str, expected: dict[str, Any]) -> None:
    reading = drafts.read_answer("functional_protection", question, answer, {}, TODAY)
    assert {k: v for k, v in vars(reading).items() if v not in (None, ())} == expected


def test_the_erasure_request_s_date_marks_the_step_on_that_day() -> None:
    case = {"steps_done": ["preserve_evidence"]}
    reading = drafts.read_answer(
        "cnil_complaint", "draft_erasure_date", "le 3 octobre", case, TODAY
    )
    assert reading.patch == {"steps_done": ["preserve_evidence", "erasure_request"]}
    assert reading.done_on == {"erasure_request": dt.date(2026, 10, 3)}
    assert (reading.keep, reading.note) == ("2026-10-03", "erasure_recorded")
    for text, choice in (("non", None), ("pas encore", None), ("/inform", drafts.NOT_SENT_CHOICE)):
        not_sent = drafts.read_answer(
            "cnil_complaint", "draft_erasure_date", text, case, TODAY, choice=choice
        )
        assert not_sent.error == "erasure_first", text
    assert drafts.read_erasure_date("le 25/12/2026", case, TODAY).error == "erasure_date_future"
    assert drafts.read_erasure_date("bientôt", case, TODAY).error == "erasure_date_unreadable"
    assert drafts.read_erasure_date("", case, TODAY).error == "empty"


def test_the_site_has_a_month_to_answer() -> None:
    assert drafts.answer_due(dt.date(2026, 11, 20), TODAY) == dt.date(2026, 12, 20)
    assert drafts.answer_due(dt.date(2026, 11, 7), TODAY) == dt.date(2026, 12, 7)  # last day
    assert drafts.answer_due(dt.date(2026, 11, 6), TODAY) is None


def test_the_cnil_complaint_cites_the_day_the_request_was_sent() -> None:
    case = load_case({**FULL, "steps_done": ["erasure_request"]}, TODAY)
    options = LetterOptions(erasure_sent_on=dt.date(2026, 10, 3))
    body = build_letter(case, "cnil_complaint", TODAY, options).section_text("body")
    assert "J'ai adressé le 3 octobre 2026 au responsable du traitement" in body
    undated = build_letter(case, "cnil_complaint", TODAY).section_text("body")
    assert "J'ai adressé au responsable du traitement" in undated


@pytest.mark.parametrize(
    ("kind", "change", "detail"),
    [
        (
            "functional_protection",
            {"victim": {**FULL["victim"], "practice": "liberal"}},
            "hospital_practice",
        ),
        (
            "right_of_reply",
            {"incident": {**FULL["incident"], "platforms": ["google_reviews"]}},
            "right_of_reply_in_place",
        ),
        (
            "right_of_reply",
            {"incident": {**FULL["incident"], "first_published": "2026-08-01"}},
            "right_of_reply_expired",
        ),
        (
            "formal_notice",
            {
                "incident": {
                    **FULL["incident"],
                    "author": {"known": True, "relation": "colleague", "name": "Dr X"},
                }
            },
            "author_colleague",
        ),
        (
            "erasure_request",
            {"incident": {**FULL["incident"], "platforms": ["email"]}},
            "platform_private",
        ),
        ("cnil_complaint", {}, "erasure_requested"),
    ],
)
def test_a_refusal_names_its_explanation(kind: str, change: dict[str, Any], detail: str) -> None:
    """The chat explains each refusal in its own words, keyed by `detail` (actions/drafts.py)."""
    case = load_case({**FULL, **change}, TODAY)
    with pytest.raises(LetterError) as refused:
        build_letter(case, kind, TODAY, LetterOptions(reply_text="Je conteste ces propos."))
    assert refused.value.detail == detail


def test_every_letter_of_the_form_is_drafted_from_a_full_case() -> None:
    case = load_case({**FULL, "steps_done": ["erasure_request"]}, TODAY)
    for kind in drafts.KINDS:
        options = drafts._options(kind, "blog", dt.date(2026, 10, 3), reply_text="Je conteste.")
        document = build_letter(drafts.with_addresses(kind, case), kind, TODAY, options)
        assert "Camille" in document.section_text("signature") + document.section_text("body"), kind


def test_the_summary_shows_what_the_letter_uses() -> None:
    summary = drafts.summary_text("cnil_complaint", FULL, "blog", sent_on=dt.date(2026, 10, 3))
    assert "Plainte auprès de la CNIL" in summary and URL in summary
    assert "c@martin.fr" in summary and "03/10/2026" in summary
    reply = drafts.summary_text("right_of_reply", FULL, "blog", reply="Je conteste ces propos.")
    assert "« Je conteste ces propos. »" in reply and "c@martin.fr" not in reply
    protection = drafts.summary_text("functional_protection", FULL, None)
    assert "praticienne hospitalière" in protection and URL not in protection
