"""The chat's checklists (riposte/knowledge/plans.yml), their rendering and « ça recommence »
(riposte/chat/rungs.py)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from riposte.chat import rungs, triage
from riposte.knowledge import KNOWLEDGE_DIR, KnowledgeError
from riposte.knowledge import load as load_knowledge
from riposte.knowledge.plans import PLAN_LEVELS, load_plans, load_plans_from
from tests.slots import lawful_review

TODAY = date(2026, 11, 24)


def test_every_item_has_a_public_source_or_says_it_is_riposte_s_own() -> None:
    kb = load_knowledge()
    for level in PLAN_LEVELS:
        for item in load_plans().plans[level].items:
            assert item.riposte_own or item.sources, item.text
            assert all(source in kb.sources for source in item.sources)
            assert item.step is None or item.step in kb.steps


@pytest.mark.parametrize("level", PLAN_LEVELS)
def test_the_checklist_shows_every_item_its_mark_and_its_sources(level: str) -> None:
    plan = load_plans().plans[level]
    text = rungs.plan_text(level)  # the mode of practice unknown: every item
    lines = text.splitlines()
    assert lines[0] == f"**{plan.label}**"
    for index, item in enumerate(plan.items, start=1):
        line = next(line for line in lines if line.startswith(f"☐ {index}. "))
        assert item.text in line
        assert line.endswith("(conseil pratique de Riposte)") == item.riposte_own
    sources = load_knowledge().sources
    for source_id in plan.source_ids():
        assert f"- {sources[source_id].title} ({sources[source_id].url})" in lines


def test_the_preventive_checklist_covers_what_a_doctor_can_do_before_an_attack() -> None:
    text = rungs.plan_text("preventive")
    for needle in (
        "alerte sur votre nom",
        "confidentialité de vos comptes personnels",
        "adresse du domicile, famille et enfants, emploi du temps",
        "comptes professionnels et personnels",
        "assureur",
        "une fois par mois",
    ):
        assert needle in text


def test_the_offensive_checklist_covers_constat_cover_lawyer_complaint_and_ordre() -> None:
    text = rungs.plan_text("offensive")
    for needle in (
        "commissaire de justice",
        "assureur",
        "protection fonctionnelle",
        "avocat",
        "procureur de la République",
        "simple plainte n'arrête pas le délai",
        "conseil départemental de l'Ordre",
    ):
        assert needle in text


def test_the_cover_of_the_costs_depends_on_the_mode_of_practice() -> None:
    hospital, liberal = rungs.plan_text("offensive", "hospital"), rungs.plan_text(
        "offensive", "liberal"
    )
    assert "protection fonctionnelle" in hospital and "assureur" not in hospital
    assert "assureur" in liberal and "protection fonctionnelle" not in liberal
    # Numbered without gaps, and only the sources of the items shown.
    assert "☐ 5." in liberal and "☐ 6." not in liberal
    assert "Protection fonctionnelle (CGFP" not in liberal


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return directory


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("sources: [S18]\n", "sources: [S999]\n", "not in sources.yml"),
        (
            "        riposte_own: true\n",
            "        riposte_own: true\n        sources: [S18]\n",
            "no public source",
        ),
        ("        riposte_own: true\n", "", "needs `sources`"),
        ("step: no_reply", "step: ne_rien_faire", "unknown step"),
        ("practice: [hospital]", "practice: [hopital]", "expected a list among"),
    ],
)
def test_an_invalid_checklist_is_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    directory = _copy(tmp_path)
    path = directory / "plans.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=problem):
        load_plans_from(directory)


def test_no_deadline_without_an_offence_and_the_engine_s_with_one() -> None:
    review = lawful_review("2026-11-20")
    assert rungs.deadline_lines({}, TODAY) == []
    assert rungs.deadline_lines(review, TODAY) == []
    insult = {**review, "offenses": ["insult"], "lawful_criticism": False}
    lines = rungs.deadline_lines(insult, TODAY)
    assert lines == triage.deadline_lines(triage.advice_for(insult, TODAY))
    assert len(lines) == 1 and "20/02/2027" in lines[0]


def test_it_happens_again_is_read_at_once_only_with_something_new() -> None:
    known = {"platforms": ["google_reviews"], "offenses": [], "lawful_criticism": True}
    assert rungs.reads_at_once({}, {}, danger=False)  # nothing known: a first description
    assert not rungs.reads_at_once(known, {}, danger=False)
    assert not rungs.reads_at_once(known, {"volume": "repeated"}, danger=False)
    assert rungs.reads_at_once(known, {"offenses": ["insult"]}, danger=False)
    assert rungs.reads_at_once(known, {}, danger=True)
