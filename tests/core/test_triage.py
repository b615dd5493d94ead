"""The triage glue: slots from answers and buttons, the case built from slots, chat text."""

from __future__ import annotations

from datetime import date

import pytest

from riposte.advice.render import (
    render_chat,
    render_key_deadline,
    render_ladder,
    render_steps,
    render_why,
)
from riposte.case import load_case
from riposte.chat import triage

TODAY = date(2026, 11, 24)


def test_one_message_fills_platforms_offenses_and_urgency() -> None:
    text = "Depuis hier je reçois des menaces de mort sur Instagram, il a publié mon adresse"
    slots = triage.facts_from_text(text, {}, TODAY)
    assert slots["platforms"] == ["instagram"]
    assert "threat" in slots["offenses"] and "doxxing" in slots["offenses"]
    assert slots["urgent"] is True
    assert slots["public"] is True  # derived from the platform: not asked again


def test_a_lawful_review_is_known_as_such_and_fills_the_nature_question() -> None:
    slots = triage.facts_from_text(
        "un avis négatif sur Google, il dit que j'étais en retard", {}, TODAY
    )
    assert slots["platforms"] == ["google_reviews"]
    assert slots["offenses"] == []
    assert slots["lawful_criticism"] is True
    assert "offenses" not in triage.missing_slots(slots)


def test_new_facts_extend_lists_and_keep_older_ones() -> None:
    current = {"platforms": ["x"], "offenses": ["insult"]}
    updates = triage.merge(current, {"platforms": ["facebook", "x"], "offenses": ["threat"]})
    assert updates["platforms"] == ["x", "facebook"]
    assert updates["offenses"] == ["insult", "threat"]
    assert updates["lawful_criticism"] is False


@pytest.mark.parametrize(
    ("requested", "text", "expected"),
    [
        ("first_published", "il y a deux semaines", {"first_published": "2026-11-10"}),
        ("first_published", "je ne sais pas", {"first_published": "unknown"}),
        ("author_relation", "aucune idée", {"author_relation": "unknown"}),
        ("platforms", "je sais pas", {"platforms": ["other"]}),
        ("practice", "je suis praticien hospitalier", {"practice": "hospital"}),
    ],
)
def test_an_answer_fills_the_requested_slot(
    requested: str, text: str, expected: dict[str, object]
) -> None:
    updates = triage.answer_requested(requested, text, {}, TODAY)
    for name, value in expected.items():
        assert updates[name] == value


def test_dont_know_is_not_accepted_for_the_nature_of_the_facts() -> None:
    assert "offenses" not in triage.answer_requested("offenses", "je ne sais pas", {}, TODAY)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("platforms=x", {"platforms": ["x"]}),
        ("offenses=none", {"offenses": [], "lawful_criticism": True}),
        ("offenses=threat", {"offenses": ["threat"], "lawful_criticism": False}),
        ("public=false", {"public": False}),
        ("practice=hospital", {"practice": "hospital"}),
        ("first_published=unknown", {"first_published": "unknown"}),
    ],
)
def test_button_choices(choice: str, expected: dict[str, object]) -> None:
    assert triage.parse_choice(choice) == expected


@pytest.mark.parametrize(
    "choice", ["platforms=myspace", "practice=pirate", "nothing", "requested_slot=x", "public=1"]
)
def test_forged_button_choices_are_refused(choice: str) -> None:
    with pytest.raises(ValueError):
        triage.parse_choice(choice)


def test_derived_values() -> None:
    assert triage.derive({"platforms": ["email"]}) == {"public": False}
    assert triage.derive({"platforms": ["x", "email"]}) == {}
    assert triage.derive({"volume": "raid"}) == {"author_relation": "unknown"}
    single = {"volume": "single", "last_seen": "2026-11-10"}
    assert triage.derive(single) == {"first_published": "2026-11-10"}
    assert triage.derive({**single, "volume": "repeated"}) == {}


FULL = {
    "platforms": ["x"],
    "offenses": ["insult"],
    "first_published": "2026-11-01",
    "author_relation": "unknown",
    "volume": "raid",
    "public": True,
    "practice": "hospital",
    "author_handles": ["@troll"],
    "steps_done": ["preserve_evidence"],
}


def test_case_from_slots_is_a_valid_shared_case() -> None:
    case = triage.case_from_slots(FULL)
    assert case["victim"] == {"practice": "hospital"}
    assert case["incident"]["platforms"] == ["x"]
    assert case["incident"]["author"] == {"relation": "unknown", "handles": ["@troll"]}
    assert case["steps_done"] == ["preserve_evidence"]
    load_case(case, today=TODAY)  # raises if the shared schema is not respected


def test_unknown_date_is_left_out_of_the_case() -> None:
    case = triage.case_from_slots({**FULL, "first_published": "unknown"})
    assert "first_published" not in case["incident"]


def test_no_facts_means_no_incident() -> None:
    assert "incident" not in triage.case_from_slots({"practice": "liberal"})


def test_chat_advice_names_the_rung_the_deadline_and_ticks_done_steps() -> None:
    advice = triage.advice_for(FULL, TODAY)
    text = render_chat(advice)
    assert text.count(advice.strategy.label) == 1
    assert "pour agir en justice, jusqu'au" in (render_key_deadline(advice) or "")
    steps = render_steps(advice)
    assert "☑" in steps and "☐" in steps
    ladder = render_ladder(advice)
    assert ladder.count("← recommandé") == 1
    assert f"{advice.strategy.label} ← recommandé" in ladder
    step = triage.next_step(advice)
    assert step is not None and step.key != "preserve_evidence"


def test_why_cites_sources_for_a_step() -> None:
    advice = triage.advice_for(FULL, TODAY)
    text = render_why(advice, "step:preserve_evidence")
    assert "Sources :" in text and "http" in text
    assert "pas avocat" in text


def test_summary_lines_in_french() -> None:
    lines = triage.summary_lines({**FULL, "urgent": True})
    assert lines[0] == "- **danger signalé**"
    assert "- où : X (ex-Twitter)" in lines
    assert "- exercice : hôpital public" in lines


def test_case_patch_and_slots_round_trip_through_the_case_format() -> None:
    from riposte.case import load_case
    from riposte.store.repository import merge_patch

    patch = triage.case_patch(FULL)
    stored = load_case(merge_patch({}, patch), today=TODAY).to_dict()
    back = triage.slots_from_case(stored)
    for name in triage.REQUIRED_SLOTS:
        assert back[name] == FULL.get(name), name
    assert back["steps_done"] == list(FULL.get("steps_done") or [])


def test_case_patch_forgets_what_the_slots_forgot_and_keeps_the_rest() -> None:
    from riposte.store.repository import merge_patch

    stored = {
        "victim": {"last_name": "Durand", "practice": "liberal"},
        "incident": {"platforms": ["x"], "offenses": ["insult"], "summary": "gardé"},
    }
    cleared = merge_patch(stored, triage.case_patch({}))
    assert cleared["victim"] == {"last_name": "Durand"}
    assert "incident" not in cleared
    updated = merge_patch(stored, triage.case_patch({"platforms": ["facebook"], "offenses": []}))
    assert updated["incident"]["platforms"] == ["facebook"]
    assert updated["incident"]["offenses"] == []
    assert updated["incident"]["summary"] == "gardé"


def test_private_correspondence_is_not_public_but_a_messaging_app_is_asked() -> None:
    # platforms.yml `private`: e-mail and SMS are never public, the question is not asked.
    assert triage.derive({"platforms": ["email", "sms"]}) == {"public": False}
    # WhatsApp (or Snapchat) may hold a large group: the doctor is asked (the advice engine
    # already counted WhatsApp as a platform to report to, not as private correspondence).
    assert "public" not in triage.derive({"platforms": ["whatsapp"]})
    assert "public" not in triage.derive({"platforms": ["snapchat"]})
    assert "public" not in triage.derive({"platforms": ["email", "whatsapp"]})
    assert triage.derive({"platforms": ["x", "facebook"]}) == {"public": True}
    # What the doctor said wins over the platform.
    assert triage.derive({"platforms": ["email"], "public": True}) == {}


VOLUME_BUTTONS = [
    {"title": "Un seul message", "payload": '/inform{{"choice": "volume=single"}}'},
    {"title": "Plusieurs, du même auteur", "payload": '/inform{"choice": "volume=repeated"}'},
    {"title": "Beaucoup de comptes (raid)", "payload": '/inform{"choice": "volume=raid"}'},
    {"title": "Beaucoup trop", "payload": "/inform"},  # no choice: never taken
]


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("Plusieurs, du même auteur", "volume=repeated"),
        ("PLUSIEURS DU MEME AUTEUR !", "volume=repeated"),
        ("plusieurs", "volume=repeated"),  # the start of one title only
        ("un seul message", "volume=single"),  # the domain's doubled braces
        ("beaucoup", "volume=raid"),  # « Beaucoup trop » has no choice
        ("un", None),  # a short word alone is not enough for a start
        ("du même auteur", None),  # not a start
        ("plusieurs comptes", None),
        ("", None),
    ],
)
def test_a_typed_button_title_gives_its_choice(text: str, choice: str | None) -> None:
    assert triage.choice_from_title(text, VOLUME_BUTTONS) == choice


def test_a_start_shared_by_two_titles_gives_no_choice() -> None:
    buttons = [
        {"title": "Plusieurs messages", "payload": '/inform{"choice": "volume=repeated"}'},
        {"title": "Plusieurs comptes", "payload": '/inform{"choice": "volume=raid"}'},
    ]
    assert triage.choice_from_title("plusieurs", buttons) is None
    assert triage.choice_from_title("plusieurs comptes", buttons) == "volume=raid"
