"""The advice engine: every rule of the decision tree, on fixtures and inline cases."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from riposte.advice.engine import Advice, advise
from riposte.case import CaseError, load_case
from riposte.knowledge import load
from tests.core.cases import TODAY, case_advice

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
REPORT_OR_REMOVAL = {
    "report_to_platform",
    "pharos_report",
    "contact_author",
    "right_of_reply",
    "erasure_request",
    "cnil_complaint",
    "dsa_appeal",
    "block_authors",
}
PENAL = {"file_complaint", "commissioner_report"}


def fixture(name: str, today: date = TODAY) -> Advice:
    return advise(load_case(FIXTURES / f"{name}.json", today=today), today)


def incident(today: date = TODAY, practice: str = "liberal", **fields: Any) -> Advice:
    return case_advice(today, practice, **fields)


def keys(advice: Advice) -> list[str]:
    return list(advice.step_keys())


def step(advice: Advice, key: str) -> Any:
    return next(s for s in advice.steps if s.key == key)


def rung(advice: Advice, level: str) -> Any:
    return next(r for r in advice.ladder if r.level == level)


def quals(advice: Advice) -> list[tuple[str, str]]:
    return [(q.offense, q.variant) for q in advice.qualifications]


def all_warnings(advice: Advice) -> str:
    return "\n".join(advice.warnings)


# --------------------------------------------------------------------------- fixtures table


@pytest.mark.parametrize(
    ("name", "urgent", "level", "present", "absent", "qualifications", "letters"),
    [
        (
            "lawful_review",
            False,
            "neutre",
            {"preserve_evidence", "public_reply", "report_to_platform", "erasure_request"},
            PENAL | {"pharos_report", "inform_cdom", "block_authors", "emergency_call"},
            [],
            # No DSA art. 16 notice: that letter is for illegal content.
            ["erasure_request", "cnil_complaint"],
        ),
        (
            "insult_x_recent",
            False,
            "offensive",
            {"file_complaint", "commissioner_report", "report_to_platform", "inform_cdom"},
            {"pharos_report", "public_reply", "emergency_call", "functional_protection"},
            [("insult", "base")],
            ["platform_notice", "procureur", "cdom_declaration"],
        ),
        (
            "defamation_expired",
            False,
            "defensive",
            {"report_to_platform", "erasure_request", "cnil_complaint", "consult_lawyer"},
            PENAL | {"pharos_report", "public_reply"},
            [("defamation", "base")],
            ["platform_notice", "erasure_request", "cdom_declaration", "cnil_complaint"],
        ),
        (
            "discriminatory_insult_8_months",
            False,
            "offensive",
            {"file_complaint", "pharos_report"},
            {"emergency_call"},
            [("insult", "discriminatory")],
            ["platform_notice", "procureur", "cdom_declaration"],
        ),
        (
            "raid_x",
            False,
            "offensive",
            {"lock_accounts", "file_complaint", "victim_support"},
            # Issue 16: Pharos takes neither insult between individuals nor harassment alone.
            {"contact_author", "public_reply", "emergency_call", "pharos_report"},
            [("insult", "base"), ("harassment", "base")],
            ["platform_notice", "procureur", "cdom_declaration"],
        ),
        (
            "death_threat",
            True,
            "offensive",
            {"emergency_call", "file_complaint", "pharos_report", "victim_support"},
            {"contact_author", "public_reply"},
            [("threat", "base")],
            ["procureur", "platform_notice", "cdom_declaration"],
        ),
        (
            "doxxing",
            True,
            "offensive",
            {"emergency_call", "file_complaint", "pharos_report", "erasure_request"},
            {"contact_author", "public_reply"},
            [("doxxing", "base")],
            [
                "procureur",
                "platform_notice",
                "cdom_declaration",
                "erasure_request",
                "cnil_complaint",
            ],
        ),
        (
            "impersonation",
            False,
            "offensive",
            {"report_to_platform", "erasure_request", "file_complaint"},
            {"pharos_report", "emergency_call"},
            [("impersonation", "base")],
            [
                "platform_notice",
                "erasure_request",
                "procureur",
                "cdom_declaration",
                "cnil_complaint",
            ],
        ),
        (
            "colleague",
            False,
            "defensive",
            {"cdom_conciliation", "file_complaint", "inform_cdom"},
            {"public_reply", "right_of_reply", "contact_author", "pharos_report"},
            [("defamation", "base")],
            ["platform_notice", "procureur", "cdom_declaration"],
        ),
        (
            "hospital",
            False,
            "offensive",
            {"functional_protection", "file_complaint", "lock_accounts"},
            {"emergency_call", "public_reply", "pharos_report"},
            [("insult", "base"), ("harassment", "base")],
            ["platform_notice", "functional_protection", "procureur", "cdom_declaration"],
        ),
        (
            "private_messages",
            False,
            "offensive",
            {"file_complaint", "block_authors"},
            {"pharos_report", "report_to_platform", "public_reply", "contact_author"},
            [("insult", "private"), ("outrage", "base")],
            ["procureur", "cdom_declaration"],
        ),
        (
            "no_incident",
            False,
            "preventive",
            {"monitor_reputation", "lock_accounts", "contact_insurer"},
            {"preserve_evidence", "file_complaint", "consult_lawyer"},
            [],
            [],
        ),
    ],
)
def test_fixture_outcomes(
    name: str,
    urgent: bool,
    level: str,
    present: set[str],
    absent: set[str],
    qualifications: list[tuple[str, str]],
    letters: list[str],
) -> None:
    advice = fixture(name)
    assert advice.urgent is urgent
    assert advice.strategy.level == level
    assert advice.strategy.label == load().ladder[level].label
    assert present <= set(keys(advice)), keys(advice)
    assert not absent & set(keys(advice)), keys(advice)
    assert quals(advice) == qualifications
    assert list(advice.letters) == letters


def test_every_fixture_is_covered_by_the_table() -> None:
    assert set(FIXTURE_NAMES) == {
        "lawful_review",
        "insult_x_recent",
        "defamation_expired",
        "discriminatory_insult_8_months",
        "raid_x",
        "death_threat",
        "doxxing",
        "impersonation",
        "colleague",
        "hospital",
        "private_messages",
        "no_incident",
    }


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_evidence_comes_before_any_report_or_removal(name: str) -> None:
    order = keys(fixture(name))
    reports = [order.index(k) for k in REPORT_OR_REMOVAL if k in order]
    if reports:
        assert order.index("preserve_evidence") < min(reports)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_five_rungs_are_always_listed_in_order(name: str) -> None:
    advice = fixture(name)
    assert [r.level for r in advice.ladder] == list(load().ladder)
    assert all(r.why for r in advice.ladder)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_lawyer_and_insurer_from_the_defensive_rung_up(name: str) -> None:
    advice = fixture(name)
    if rung(advice, "defensive").recommended or rung(advice, "offensive").recommended:
        assert {"consult_lawyer", "contact_insurer"} <= set(keys(advice))
    else:
        assert "consult_lawyer" not in keys(advice)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_procureur_letter_only_with_the_complaint_step(name: str) -> None:
    advice = fixture(name)
    assert ("procureur" in advice.letters) == ("file_complaint" in keys(advice))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_disclaimer_and_ladder_note_always_present(name: str) -> None:
    advice = fixture(name)
    assert "pas un conseil juridique" in advice.warnings[0]
    assert load().ladder_note in advice.warnings


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_sources_are_known_sorted_and_cover_the_steps(name: str) -> None:
    advice = fixture(name)
    kb = load()
    ids = [s.id for s in advice.sources]
    assert ids == sorted(ids, key=kb.source_sort_key)
    assert len(ids) == len(set(ids))
    for s in advice.steps:
        assert set(kb.steps[s.key].sources) <= set(ids)
    for q in advice.qualifications:
        assert set(kb.offenses[q.offense].sources) <= set(ids)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_to_dict_is_json_and_deterministic(name: str) -> None:
    first = fixture(name).to_dict()
    assert first == fixture(name).to_dict()
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first
    assert set(first) == {
        "today",
        "urgent",
        "strategy",
        "ladder",
        "steps",
        "qualifications",
        "letters",
        "warnings",
        "sources",
    }
    assert set(first["strategy"]) >= {"level", "why"}
    for item in first["ladder"]:
        assert set(item) == {"level", "label", "recommended", "why"}
    for item in first["steps"]:
        assert {"key", "label", "done", "why", "how"} <= set(item)
    for item in first["qualifications"]:
        assert {"offense", "label", "texts", "penalty", "prescription"} <= set(item)
        assert {"deadline", "days_left", "expired", "from", "rule"} <= set(item["prescription"])
    for item in first["sources"]:
        assert {"id", "title", "url"} <= set(item)


# --------------------------------------------------------------------------- danger first


@pytest.mark.parametrize("name", ["death_threat", "doxxing"])
def test_danger_puts_the_emergency_call_first_then_evidence_then_complaint(name: str) -> None:
    order = keys(fixture(name))
    assert order[:3] == ["emergency_call", "preserve_evidence", "file_complaint"]
    assert "immédiatement" in step(fixture(name), "file_complaint").why


@pytest.mark.parametrize("offense", ["threat", "doxxing"])
def test_threat_or_doxxing_without_danger_is_not_urgent(offense: str) -> None:
    advice = incident(offenses=[offense], physical_danger=False)
    assert advice.urgent is False
    assert "emergency_call" not in keys(advice)
    assert "file_complaint" in keys(advice)
    assert "pharos_report" in keys(advice)


def test_physical_danger_alone_is_urgent() -> None:
    advice = incident(offenses=["insult"], physical_danger=True)
    assert advice.urgent is True
    assert keys(advice)[0] == "emergency_call"
    assert any("danger physique" in r for r in advice.strategy.why)


def test_danger_suggests_hiding_the_home_address_in_the_complaint() -> None:
    assert "adresse de l'Ordre" in all_warnings(fixture("death_threat"))
    assert "adresse de l'Ordre" not in all_warnings(fixture("insult_x_recent"))


# --------------------------------------------------------------------------- deadlines


def test_insult_deadline_is_three_months_after_first_publication() -> None:
    q = fixture("insult_x_recent").qualifications[0]
    assert q.prescription.start == date(2026, 10, 1)
    assert q.prescription.deadline == date(2027, 1, 1)
    assert q.prescription.days_left == 38
    assert q.prescription.expired is False
    assert q.prescription.start_from == "first_published"


def test_expired_press_offense_closes_the_penal_route_and_says_why() -> None:
    advice = fixture("defamation_expired")
    q = advice.qualifications[0]
    assert q.prescription.deadline == date(2026, 8, 10)
    assert q.prescription.expired is True
    assert not PENAL & set(keys(advice))
    assert "procureur" not in advice.letters
    assert "a expiré le 10/08/2026" in all_warnings(advice)
    assert "première publication le 10/05/2026" in all_warnings(advice)
    offensive = rung(advice, "offensive")
    assert offensive.recommended is False
    assert "écoulé" in offensive.why
    assert any("écoulé" in r for r in advice.strategy.why)
    assert "délai de plainte est écoulé" in step(advice, "erasure_request").why


@pytest.mark.parametrize(
    ("today", "open_"),
    [
        (date(2026, 11, 23), True),
        (date(2026, 11, 24), True),  # the deadline day itself is still in time
        (date(2026, 11, 25), False),
    ],
)
def test_press_deadline_boundary_day(today: date, open_: bool) -> None:
    advice = incident(today=today, first_published="2026-08-24")
    q = advice.qualifications[0]
    assert q.prescription.deadline == date(2026, 11, 24)
    assert q.prescription.expired is (not open_)
    assert ("file_complaint" in keys(advice)) is open_
    assert ("procureur" in advice.letters) is open_


def test_deadline_day_warns_that_zero_days_are_left() -> None:
    advice = incident(today=date(2026, 11, 24), first_published="2026-08-24")
    assert "il reste 0 jour(s)" in all_warnings(advice)


def test_end_of_month_deadline_is_clamped() -> None:
    advice = incident(today=date(2026, 11, 30), first_published="2026-08-31")
    assert advice.qualifications[0].prescription.deadline == date(2026, 11, 30)
    advice = incident(today=date(2026, 12, 1), first_published="2026-08-31")
    assert advice.qualifications[0].prescription.expired is True


def test_deadline_far_away_gives_no_deadline_warning() -> None:
    advice = incident(first_published="2026-11-20")
    assert "il reste" not in all_warnings(advice)
    assert "de date à date" in all_warnings(advice)


def test_open_press_offense_warns_that_a_plain_complaint_does_not_stop_the_clock() -> None:
    advice = fixture("insult_x_recent")
    assert "n'arrête pas le délai" in all_warnings(advice)
    assert "date limite 01/01/2027" in step(advice, "file_complaint").why


@pytest.mark.parametrize(
    ("first_published", "deadline", "expired"),
    [("2026-03-24", date(2027, 3, 24), False), ("2025-10-01", date(2026, 10, 1), True)],
)
def test_discriminatory_insult_has_one_year(
    first_published: str, deadline: date, expired: bool
) -> None:
    advice = incident(first_published=first_published, discriminatory=True)
    q = advice.qualifications[0]
    assert q.variant == "discriminatory"
    assert q.prescription.deadline == deadline
    assert q.prescription.expired is expired
    assert ("file_complaint" in keys(advice)) is (not expired)


def test_unknown_publication_date_keeps_the_route_open_and_warns() -> None:
    advice = incident(first_published=None)
    q = advice.qualifications[0]
    assert q.prescription.deadline is None and q.prescription.expired is None
    assert "file_complaint" in keys(advice)
    assert "date de publication n'est pas connue" in all_warnings(advice)
    assert "de date à date" not in all_warnings(advice)


# --------------------------------------------------------------------------- qualification rules


def test_insult_and_defamation_keep_defamation_and_warn_about_article_50() -> None:
    advice = incident(offenses=["insult", "defamation"])
    assert quals(advice) == [("defamation", "base")]
    assert "art. 50" in all_warnings(advice)
    assert "art. 50" not in all_warnings(incident(offenses=["defamation"]))


@pytest.mark.parametrize("volume", ["repeated", "raid"])
def test_repetition_adds_harassment_counted_from_the_last_act(volume: str) -> None:
    advice = incident(volume=volume, first_published="2026-11-01", last_seen="2026-11-20")
    harassment = next(q for q in advice.qualifications if q.offense == "harassment")
    assert harassment.prescription.start == date(2026, 11, 20)
    assert harassment.prescription.deadline == date(2032, 11, 20)
    assert harassment.prescription.start_from == "last_seen"
    assert "30 000 €" in harassment.penalty
    assert any("222-33-2-2" in t for t in harassment.texts)
    assert any("harcèlement" in r for r in advice.strategy.why)
    assert "dernier acte" in all_warnings(advice)


def test_single_message_adds_no_harassment() -> None:
    assert quals(incident(volume="single")) == [("insult", "base")]


def test_harassment_without_last_seen_counts_from_first_publication() -> None:
    advice = incident(volume="raid", first_published="2026-11-01")
    harassment = next(q for q in advice.qualifications if q.offense == "harassment")
    assert harassment.prescription.start == date(2026, 11, 1)


def test_raid_without_listed_offense_is_not_a_lawful_criticism() -> None:
    advice = incident(offenses=[], volume="raid")
    assert quals(advice) == [("harassment", "base")]
    assert advice.strategy.level == "offensive"
    assert "file_complaint" in keys(advice)


def test_private_insult_is_a_contravention_plus_outrage() -> None:
    advice = fixture("private_messages")
    insult, outrage = advice.qualifications
    assert insult.variant == "private"
    assert any("R.621-2" in t for t in insult.texts)
    assert "38 €" in insult.penalty
    assert insult.prescription.deadline == date(2027, 1, 15)
    assert outrage.prescription.deadline == date(2032, 10, 15)
    assert "7 500 €" in outrage.penalty
    assert "Pharos ne traite pas les messages privés" in all_warnings(advice)
    # Issue 16: 3 months is sure; no user text mentions the project's internal documents.
    assert "3 mois à compter du message" in all_warnings(advice)
    assert "document de faits" not in all_warnings(advice)


def test_private_defamation_uses_r621_1() -> None:
    advice = incident(offenses=["defamation"], public=False, platforms=["sms"])
    assert advice.qualifications[0].texts == ("Code pénal, art. R.621-1",)


def test_private_insult_past_three_months_keeps_the_outrage_route() -> None:
    # Issue 16: outrage only for words about the doctor's work.
    advice = incident(
        offenses=["insult"],
        public=False,
        platforms=["email"],
        first_published="2026-01-10",
        about_work=True,
    )
    insult, outrage = advice.qualifications
    assert insult.prescription.expired is True
    assert outrage.prescription.expired is False
    assert "file_complaint" in keys(advice)
    assert "ne peut viser que : Outrage" in step(advice, "file_complaint").why


def test_no_outrage_for_messages_before_the_2025_law() -> None:
    advice = incident(
        today=date(2025, 3, 1),
        offenses=["insult"],
        public=False,
        platforms=["email"],
        first_published="2025-01-10",
        about_work=True,
    )
    assert quals(advice) == [("insult", "private")]
    # Issue 16: the law applies from 11/07/2025 (JO of 10/07/2025).
    assert "11/07/2025" in all_warnings(advice)


def test_outrage_listed_for_public_content_is_flagged() -> None:
    advice = incident(offenses=["outrage"], public=True)
    assert "non rendus publics" in all_warnings(advice)


# --------------------------------------------------------------------------- pharos and platforms


@pytest.mark.parametrize(
    ("fields", "pharos"),
    [
        ({"offenses": ["threat"], "public": True}, True),
        ({"offenses": ["threat"], "public": False, "platforms": ["sms"]}, False),
        ({"offenses": ["insult"], "public": True}, False),
        ({"offenses": ["insult"], "public": True, "discriminatory": True}, True),
        ({"offenses": ["doxxing"], "public": True}, True),
        ({"offenses": [], "public": True}, False),
    ],
)
def test_pharos_only_for_public_illicit_content(fields: dict[str, Any], pharos: bool) -> None:
    assert ("pharos_report" in keys(incident(**fields))) is pharos


def test_platform_reporting_instructions_are_included() -> None:
    advice = incident(platforms=["x", "facebook"])
    how = step(advice, "report_to_platform").how
    assert load().platforms["x"].report in how
    assert load().platforms["facebook"].report in how


@pytest.mark.parametrize(
    ("platforms", "public_word"),
    [(["email"], "privés"), (["x"], "publics"), ([], "publics")],
)
def test_unknown_publicity_is_derived_and_flagged(platforms: list[str], public_word: str) -> None:
    advice = incident(platforms=platforms, public=None)
    assert public_word in all_warnings(advice)
    assert (
        "pharos_report" in keys(incident(platforms=platforms, public=None, offenses=["threat"]))
    ) is (public_word == "publics")


def test_impersonation_is_reported_as_such() -> None:
    advice = fixture("impersonation")
    assert "usurpation" in step(advice, "report_to_platform").why
    assert advice.qualifications[0].prescription.deadline == date(2032, 9, 1)


# --------------------------------------------------------------------------- author and practice


def test_colleague_goes_through_the_order_first_and_never_replies_publicly() -> None:
    advice = fixture("colleague")
    order = keys(advice)
    assert order.index("cdom_conciliation") < order.index("file_complaint")
    assert rung(advice, "pacifique").recommended is False
    assert "R.4127-56" in rung(advice, "pacifique").why
    assert any("R.4127-56" in r for r in advice.strategy.why)
    assert "n'arrête pas les délais" in all_warnings(advice)
    assert "conciliation" in step(advice, "file_complaint").why


def test_lawful_criticism_from_a_colleague_has_no_complaint_and_no_public_reply() -> None:
    advice = incident(
        offenses=[], platforms=["linkedin"], author={"known": True, "relation": "colleague"}
    )
    assert "cdom_conciliation" in keys(advice)
    assert not {"public_reply", "file_complaint", "right_of_reply"} & set(keys(advice))
    assert advice.strategy.level == "defensive"


@pytest.mark.parametrize(
    ("practice", "protection", "warning"),
    [("hospital", True, False), ("liberal", False, False), ("salaried", False, True)],
)
def test_protection_fonctionnelle(practice: str, protection: bool, warning: bool) -> None:
    advice = incident(practice=practice)
    assert ("functional_protection" in keys(advice)) is protection
    assert ("functional_protection" in advice.letters) is protection
    assert ("Salarié" in all_warnings(advice)) is warning


def test_hospital_doctor_is_told_in_the_strategy() -> None:
    advice = fixture("hospital")
    assert any("protection fonctionnelle" in r for r in advice.strategy.why)
    order = keys(advice)
    assert order.index("functional_protection") < order.index("consult_lawyer")


def test_hospital_doxxing_mentions_the_public_service_aggravation() -> None:
    advice = incident(practice="hospital", offenses=["doxxing"])
    assert "mission de service public" in all_warnings(advice)


def test_no_protection_fonctionnelle_for_a_lawful_review() -> None:
    assert "functional_protection" not in keys(incident(practice="hospital", offenses=[]))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"offenses": [], "author": {"known": True, "relation": "patient"}}, True),
        ({"offenses": ["defamation"], "author": {"known": True, "relation": "other"}}, True),
        ({"offenses": [], "author": {"known": False, "relation": "patient"}}, False),
        ({"offenses": ["threat"], "author": {"known": True, "relation": "patient"}}, False),
        ({"offenses": ["insult"], "volume": "raid", "author": {"known": True}}, False),
        (
            {
                "offenses": ["insult"],
                "public": False,
                "platforms": ["email"],
                "author": {"known": True},
            },
            False,
        ),
    ],
)
def test_contact_author_only_when_known_public_and_safe(
    fields: dict[str, Any], expected: bool
) -> None:
    advice = incident(**fields)
    assert ("contact_author" in keys(advice)) is expected
    assert ("formal_notice" in advice.letters) is expected


# --------------------------------------------------------------------------- lawful and prevention


def test_lawful_review_never_leads_to_a_complaint() -> None:
    advice = fixture("lawful_review")
    assert advice.qualifications == ()
    assert rung(advice, "offensive").recommended is False
    assert rung(advice, "neutre").recommended is True
    assert rung(advice, "pacifique").recommended is True
    assert rung(advice, "defensive").recommended is True
    assert "facultative" in step(advice, "public_reply").why
    assert any("palier pacifique" in r for r in advice.strategy.why)
    assert "faux avis" in step(advice, "report_to_platform").why
    assert "ne permet pas de porter plainte" in all_warnings(advice)
    # The platform report stays advised, but not with a DSA art. 16 notice (illegal content).
    assert "report_to_platform" in keys(advice) and "platform_notice" not in advice.letters


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        ({"platforms": ["google_reviews"], "wants_reply": True}, "pacifique"),
        ({"platforms": ["google_reviews"]}, "neutre"),
        ({"platforms": ["google_reviews"], "wants_reply": False}, "neutre"),
        # Nowhere to reply in place: the wish alone does not make a public reply possible.
        ({"platforms": ["blog"], "wants_reply": True}, "neutre"),
        # A colleague: conciliation first, never a public riposte.
        (
            {
                "platforms": ["google_reviews"],
                "wants_reply": True,
                "author": {"relation": "colleague"},
            },
            "defensive",
        ),
    ],
)
def test_a_wish_to_reply_to_a_lawful_review_is_the_pacific_rung(
    fields: dict[str, Any], level: str
) -> None:
    advice = incident(offenses=[], **fields)
    assert advice.strategy.level == level
    if level == "pacifique":
        assert any("R.4127-4" in r for r in advice.strategy.why)
        assert "public_reply" in keys(advice)


def test_a_wish_to_reply_does_not_soften_an_offense() -> None:
    assert incident(wants_reply=True).strategy.level == "offensive"


def test_lawful_content_where_one_cannot_reply_gets_no_public_reply() -> None:
    advice = incident(offenses=[], platforms=["blog"])
    assert "public_reply" not in keys(advice)
    assert rung(advice, "pacifique").recommended is False


def test_no_incident_is_prevention_only() -> None:
    advice = fixture("no_incident")
    assert keys(advice) == ["lock_accounts", "contact_insurer", "monitor_reputation"]
    assert [r.level for r in advice.ladder if r.recommended] == ["preventive"]
    assert advice.qualifications == () and advice.letters == ()


# --------------------------------------------------------------------------- right of reply


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"offenses": ["defamation"], "platforms": ["blog"], "first_published": "2026-10-01"},
            True,
        ),
        (
            {"offenses": ["defamation"], "platforms": ["blog"], "first_published": "2026-08-23"},
            False,
        ),
        ({"offenses": ["defamation"], "platforms": ["x"], "first_published": "2026-10-01"}, False),
        ({"offenses": ["insult"], "platforms": ["blog"], "first_published": "2026-10-01"}, False),
        ({"offenses": [], "platforms": ["blog"], "first_published": "2026-10-01"}, True),
    ],
)
def test_right_of_reply(fields: dict[str, Any], expected: bool) -> None:
    advice = incident(**fields)
    assert ("right_of_reply" in keys(advice)) is expected
    assert ("right_of_reply" in advice.letters) is expected


def test_right_of_reply_gives_its_deadline() -> None:
    advice = incident(offenses=["defamation"], platforms=["blog"], first_published="2026-10-01")
    assert "01/01/2027" in step(advice, "right_of_reply").why


def test_right_of_reply_runs_from_the_latest_dated_statement() -> None:
    """Art. 13 of the 1881 law: three months from each publication (a campaign's later
    statements keep the reply open after the first one's months are over)."""
    fields: dict[str, Any] = {
        "offenses": ["defamation"],
        "platforms": ["blog"],
        "first_published": "2026-07-01",
    }
    old_only = case_advice(evidence=[{"excerpt": "a", "published_at": "2026-07-01"}], **fields)
    assert "right_of_reply" not in keys(old_only)
    later = case_advice(
        evidence=[
            {"excerpt": "a", "published_at": "2026-07-01"},
            {"excerpt": "b", "published_at": "2026-11-10"},
        ],
        **fields,
    )
    why = step(later, "right_of_reply").why
    assert "10/02/2027" in why and "publiés le 10/11/2026" in why


# --------------------------------------------------------------------------- steps done


def test_done_steps_stay_in_place_and_drop_their_letter() -> None:
    data = json.loads((FIXTURES / "insult_x_recent.json").read_text(encoding="utf-8"))
    before = advise(load_case(copy.deepcopy(data), today=TODAY), TODAY)
    data["steps_done"] = ["preserve_evidence", "file_complaint"]
    after = advise(load_case(data, today=TODAY), TODAY)
    assert keys(after) == keys(before)
    done = {s.key for s in after.steps if s.done}
    assert done == {"preserve_evidence", "file_complaint"}
    assert "procureur" in before.letters and "procureur" not in after.letters


def test_a_done_step_that_is_not_advised_is_not_added() -> None:
    case = load_case(
        {"incident": {"offenses": ["threat"], "public": True}, "steps_done": ["public_reply"]},
        today=TODAY,
    )
    assert "public_reply" not in advise(case, TODAY).step_keys()


def test_advise_accepts_a_case_dict_and_validates_it() -> None:
    data = json.loads((FIXTURES / "raid_x.json").read_text(encoding="utf-8"))
    assert advise(data, TODAY) == advise(load_case(data, today=TODAY), TODAY)
    data["incident"]["volume"] = "huge"
    with pytest.raises(CaseError, match="incident.volume"):
        advise(data, TODAY)


# --------------------------------------------------------------------------- rendering pinned
# The chat and command-line renderings of the advice, compared byte for byte with the files of
# tests/core/advice_golden (written from the renderings before they moved to templates).
# After a deliberate change of wording: `.venv/bin/python -m tests.core.test_advice`, then
# review `git diff tests/core/advice_golden`.

GOLDEN_RENDERINGS = Path(__file__).resolve().parent / "advice_golden"
LETTER_CASES = Path(__file__).resolve().parent.parent / "letters" / "cases"
_INSULT = {
    "platforms": ["x"],
    "offenses": ["insult"],
    "public": True,
    "volume": "single",
    "author": {"known": False, "relation": "unknown"},
}
_STATEMENTS = {
    "victim": {"practice": "liberal"},
    "incident": {**_INSULT, "volume": "repeated", "first_published": "2026-11-01"},
    "evidence": [
        {"url": "https://x.com/a/status/1", "published_at": "2026-11-01"},
        {"url": "https://x.com/a/status/2", "published_at": "2026-12-29"},
    ],
}
RENDER_CASES: dict[str, tuple[Any, date]] = {
    **{f"fixture_{p.stem}": (p, TODAY) for p in sorted(FIXTURES.glob("*.json"))},
    **{f"letters_{p.stem}": (p, TODAY) for p in sorted(LETTER_CASES.glob("*.json"))},
    "letters_press_statements_old_open_later": (
        LETTER_CASES / "press_statements_old_open.json",
        date(2027, 1, 5),
    ),
    "deadline_today": (
        {
            "victim": {"practice": "liberal"},
            "incident": {**_INSULT, "first_published": "2026-08-24"},
        },
        TODAY,
    ),
    "deadline_tomorrow": (
        {
            "victim": {"practice": "liberal"},
            "incident": {**_INSULT, "first_published": "2026-08-25"},
        },
        TODAY,
    ),
    "deadline_on_saturday": (
        {
            "victim": {"practice": "liberal"},
            "incident": {**_INSULT, "first_published": "2026-08-14"},
        },
        date(2026, 11, 1),
    ),
    "deadline_unknown_steps_done": (
        {
            "victim": {"practice": "hospital"},
            "incident": {**_INSULT, "offenses": ["insult", "threat"]},
            "steps_done": ["preserve_evidence", "block_authors"],
        },
        TODAY,
    ),
    "statements_easter_monday": (_STATEMENTS, date(2027, 1, 5)),
    "statements_one_expired": (_STATEMENTS, date(2027, 2, 10)),
    "last_seen_offending": (
        {
            "victim": {"practice": "liberal"},
            "incident": {
                **_INSULT,
                "volume": "repeated",
                "first_published": "2026-06-01",
                "last_seen": "2026-11-25",
                "last_seen_offending": True,
            },
        },
        date(2026, 12, 6),
    ),
}


def _rendered(name: str) -> dict[str, str]:
    from riposte.advice.render import (
        chat_deadline_lines,
        render_chat,
        render_cli,
        render_key_deadline,
        render_ladder,
        render_steps,
        render_why,
    )

    source, today = RENDER_CASES[name]
    advice = advise(load_case(copy.deepcopy(source), today=today), today)
    return {
        # After the triage: the recommendation, the deadline that matters most (none without
        # an offence); on demand: the steps, the ladder, every deadline, the reasons.
        "chat": render_chat(advice) + "\n",
        "key_deadline": (render_key_deadline(advice) or "") + "\n",
        "steps": render_steps(advice) + "\n",
        "ladder": render_ladder(advice) + "\n",
        "deadlines": "\n".join(chat_deadline_lines(advice)) + "\n",
        "cli": render_cli(advice.to_dict()),
        # « Pourquoi ? » about the strategy, then about the last step advised.
        "why": render_why(advice, "strategy")
        + "\n"
        + render_why(advice, f"step:{advice.steps[-1].key}"),
    }


@pytest.mark.parametrize("name", sorted(RENDER_CASES))
def test_renderings_are_byte_identical_to_the_golden_files(name: str) -> None:
    for kind, text in _rendered(name).items():
        golden = GOLDEN_RENDERINGS / f"{name}.{kind}.txt"
        assert text == golden.read_text(encoding="utf-8"), golden.name


def test_every_golden_rendering_is_used() -> None:
    kinds = ("chat", "key_deadline", "steps", "ladder", "deadlines", "cli", "why")
    used = {f"{name}.{kind}.txt" for name in RENDER_CASES for kind in kinds}
    assert {p.name for p in GOLDEN_RENDERINGS.glob("*.txt")} == used


if __name__ == "__main__":
    GOLDEN_RENDERINGS.mkdir(exist_ok=True)
    for render_name in sorted(RENDER_CASES):
        for render_kind, render_text_ in _rendered(render_name).items():
            (GOLDEN_RENDERINGS / f"{render_name}.{render_kind}.txt").write_text(
                render_text_, encoding="utf-8"
            )


@pytest.mark.parametrize(
    ("prescription", "state"),
    [
        ({"deadline": None, "expired": None, "days_left": None}, "unknown"),
        ({"deadline": "2026-08-10", "expired": True, "days_left": -106}, "expired"),
        ({"deadline": "2026-11-24", "expired": False, "days_left": 0}, "today"),
        ({"deadline": "2026-11-25", "expired": False, "days_left": 1}, "open"),
    ],
)
def test_one_switch_tells_every_deadline(prescription: dict[str, Any], state: str) -> None:
    from riposte.advice.render import deadline_state

    assert deadline_state(prescription) == state


def test_advice_templates_refuse_to_print_a_raw_value(tmp_path: Path) -> None:
    import jinja2
    from jinja2.exceptions import SecurityError

    from riposte.advice.render import AdviceTemplateError, get_environment

    (tmp_path / "raw.txt.j2").write_text("{{ value }}\n", encoding="utf-8")
    (tmp_path / "undefined.txt.j2").write_text("{{ missing }}\n", encoding="utf-8")
    env = get_environment(tmp_path)
    for value in (None, True, date(2026, 11, 24)):
        with pytest.raises(AdviceTemplateError):
            env.get_template("raw.txt.j2").render(value=value)
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        env.get_template("undefined.txt.j2").render()
    # Sandboxed: a template cannot reach Python internals.
    (tmp_path / "escape.txt.j2").write_text("{{ value.__class__ }}\n", encoding="utf-8")
    with pytest.raises(SecurityError):
        env.get_template("escape.txt.j2").render(value="x")
