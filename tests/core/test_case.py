"""The case format: loading, conversion, and French errors that name the field."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from riposte import clock
from riposte.case import Case, CaseError, Incident, load_case, load_schema
from riposte.knowledge import load

TODAY = date(2026, 11, 24)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))

BASE: dict[str, Any] = {
    "victim": {"title": "Dr", "last_name": "Durand", "practice": "liberal", "postal_code": "44000"},
    "incident": {
        "platforms": ["x"],
        "offenses": ["insult"],
        "first_published": "2026-10-01",
        "last_seen": "2026-10-05",
        "public": True,
        "volume": "single",
        "author": {"known": False, "relation": "unknown", "handles": ["@a"]},
    },
    "evidence": [
        {
            "url": "https://x.com/a/status/1",
            "captured_at": "2026-10-02T09:15:00Z",
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        }
    ],
    "steps_done": ["preserve_evidence"],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """BASE with the dotted `path` set to `value` (list indices as numbers)."""
    data = copy.deepcopy(BASE)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_every_fixture_is_a_valid_case(path: Path) -> None:
    case = load_case(path, today=TODAY)
    assert isinstance(case, Case)
    jsonschema.Draft202012Validator(load_schema()).validate(json.loads(path.read_text()))


def test_base_case_is_converted_to_typed_values() -> None:
    case = load_case(BASE, today=TODAY)
    assert case.incident is not None
    assert case.incident.first_published == date(2026, 10, 1)
    assert case.incident.last_seen == date(2026, 10, 5)
    assert case.incident.platforms == ("x",)
    assert case.incident.author.handles == ("@a",)
    assert case.evidence[0].captured_at == datetime(2026, 10, 2, 9, 15, tzinfo=timezone.utc)
    assert case.steps_done == ("preserve_evidence",)
    assert case.victim.practice == "liberal"


def test_a_file_and_the_same_dict_give_the_same_case(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    assert load_case(path, today=TODAY) == load_case(BASE, today=TODAY)
    assert load_case(str(path), today=TODAY) == load_case(BASE, today=TODAY)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_to_dict_round_trips(path: Path) -> None:
    case = load_case(path, today=TODAY)
    assert load_case(case.to_dict(), today=TODAY) == case


def test_no_incident_and_empty_incident_are_different() -> None:
    assert load_case({"victim": {}}, today=TODAY).incident is None
    empty = load_case({"incident": {}}, today=TODAY).incident
    assert empty == Incident()
    assert empty is not None and empty.offenses == ()


def test_nulls_count_as_absent() -> None:
    data = {
        "victim": {"practice": None, "email": None},
        "incident": {"platforms": None, "first_published": None, "author": None, "public": None},
        "evidence": None,
        "steps_done": None,
        "court_city": None,
    }
    case = load_case(data, today=TODAY)
    assert case.incident is not None
    assert case.incident.platforms == ()
    assert case.incident.public is None
    assert case.evidence == ()


def test_python_dates_are_accepted() -> None:
    data = _with("incident.first_published", date(2026, 10, 1))
    case = load_case(data, today=TODAY)
    assert case.incident is not None and case.incident.first_published == date(2026, 10, 1)


def test_duplicates_are_removed_in_order() -> None:
    data = _with("incident.platforms", ["facebook", "x", "facebook"])
    case = load_case(data, today=TODAY)
    assert case.incident is not None and case.incident.platforms == ("facebook", "x")


def test_today_defaults_to_the_current_date() -> None:
    tomorrow = clock.today() + timedelta(days=1)
    data = _with("incident.last_seen", None)
    data["incident"]["first_published"] = tomorrow.isoformat()
    with pytest.raises(CaseError, match="postérieure"):
        load_case(data)
    data["incident"]["first_published"] = clock.today().isoformat()
    assert load_case(data).incident


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            _with("incident.first_published", "2024-13-01"),
            "incident.first_published : date invalide « 2024-13-01 », format attendu AAAA-MM-JJ",
        ),
        (
            _with("incident.first_published", "2025-02-29"),
            "incident.first_published : date invalide « 2025-02-29 »",
        ),
        (
            _with("incident.last_seen", "24/11/2026"),
            "incident.last_seen : date invalide « 24/11/2026 »",
        ),
        (
            _with("incident.first_published", "2026-12-01"),
            "incident.first_published : la date 2026-12-01 est postérieure à aujourd'hui "
            "(2026-11-24)",
        ),
        (
            _with("incident.last_seen", "2026-11-25"),
            "incident.last_seen : la date 2026-11-25 est postérieure à aujourd'hui",
        ),
        (
            _with("incident.last_seen", "2026-09-30"),
            "incident.last_seen : la date 2026-09-30 est antérieure à la première publication "
            "(incident.first_published = 2026-10-01)",
        ),
        (
            _with("incident.platforms", ["x", "myspace"]),
            "incident.platforms[1] : valeur inconnue « myspace »",
        ),
        (
            _with("incident.offenses", ["insult", "rudeness"]),
            "incident.offenses[1] : valeur inconnue « rudeness »",
        ),
        (_with("steps_done", ["pray"]), "steps_done[0] : valeur inconnue « pray »"),
        (_with("victim.practice", "retired"), "victim.practice : valeur inconnue « retired »"),
        (
            _with("incident.author.relation", "neighbour"),
            "incident.author.relation : valeur inconnue « neighbour »",
        ),
        (_with("incident.volume", "huge"), "incident.volume : valeur inconnue « huge »"),
        (
            _with("incident.public", "yes"),
            "incident.public : type invalide (yes) ; attendu : un booléen (true ou false)",
        ),
        (
            _with("incident.platforms", "x"),
            "incident.platforms : type invalide (x) ; attendu : une liste",
        ),
        (_with("incident.physical_danger", 1), "incident.physical_danger : type invalide (1)"),
        ({**BASE, "victime": {}}, "victime : champ inconnu"),
        (_with("incident.author.nom", "X"), "incident.author.nom : champ inconnu"),
        (_with("evidence.0.sha256", "abc"), "evidence[0].sha256 : format invalide « abc »"),
        (
            _with("evidence.0.captured_at", "hier"),
            "evidence[0].captured_at : date et heure invalides « hier »",
        ),
        (_with("victim.postal_code", "7500"), "victim.postal_code : format invalide « 7500 »"),
        (_with("evidence", {"url": "u"}), "evidence : type invalide"),
    ],
)
def test_errors_name_the_field(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(CaseError) as info:
        load_case(data, today=TODAY)
    assert any(expected in error for error in info.value.errors), info.value.errors


def test_a_root_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(CaseError, match=r"^\(dossier\) : un objet JSON"):
        load_case([1, 2], today=TODAY)  # type: ignore[arg-type]


def test_all_errors_are_reported_together() -> None:
    data = _with("incident.first_published", "2024-13-01")
    data["incident"]["last_seen"] = "demain"
    with pytest.raises(CaseError) as info:
        load_case(data, today=TODAY)
    fields = [error.split(" : ")[0] for error in info.value.errors]
    assert fields == ["incident.first_published", "incident.last_seen"]


def test_case_error_is_a_value_error_with_one_line_per_problem() -> None:
    with pytest.raises(ValueError) as info:
        load_case({**BASE, "a": 1, "b": 2}, today=TODAY)
    assert isinstance(info.value, CaseError)
    assert str(info.value).splitlines() == ["a : champ inconnu", "b : champ inconnu"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "fichier introuvable"),
        (b'{\n  "victim": ,\n}', "JSON invalide à la ligne 2, colonne 13"),
        (b"\xff\xfe{}", "le fichier n'est pas encodé en UTF-8"),
    ],
)
def test_file_errors(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "case.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CaseError) as info:
        load_case(path, today=TODAY)
    assert str(info.value) == f"{path} : {expected}"


def test_a_directory_is_not_a_case(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="c'est un dossier"):
        load_case(tmp_path, today=TODAY)


def test_schema_enums_match_the_knowledge_keys() -> None:
    kb = load()
    props = load_schema()["properties"]
    incident = props["incident"]["properties"]
    assert incident["platforms"]["items"]["enum"] == list(kb.platforms)
    assert incident["offenses"]["items"]["enum"] == list(kb.offenses)
    assert sorted(props["steps_done"]["items"]["enum"]) == sorted(kb.steps)


def test_schema_has_exactly_the_contract_keys() -> None:
    props = load_schema()["properties"]
    assert set(props) == {"victim", "incident", "evidence", "steps_done", "court_city"}
    assert set(props["victim"]["properties"]) == {
        "title",
        "first_name",
        "last_name",
        "profession",
        "practice",
        "address",
        "postal_code",
        "city",
        "email",
        "phone",
        "birth_date",  # extension (issue 16): civil status for the complaint
        "birth_place",
    }
    assert set(props["incident"]["properties"]) == {
        "platforms",
        "offenses",
        "discriminatory",
        "first_published",
        "last_seen",
        "author",
        "volume",
        "public",
        "physical_danger",
        "summary",
        "wants_reply",  # extension: the doctor wishes to reply (pacifique rung)
        "last_seen_offending",  # extension: fallback start of a press deadline
        "about_work",  # extension: the words concern the doctor's work (outrage, art. 433-3)
    }
    assert set(props["incident"]["properties"]["author"]["properties"]) == {
        "known",
        "relation",
        "handles",
        "name",
    }
    assert set(props["evidence"]["items"]["properties"]) == {
        "url",
        "captured_at",
        "author",
        "excerpt",
        "file",
        "sha256",
        "published_at",  # extension (issue 16): each statement has its own press deadline
    }
    jsonschema.Draft202012Validator.check_schema(load_schema())
