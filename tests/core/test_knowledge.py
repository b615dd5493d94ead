"""The knowledge files: exact keys, contracts other modules rely on, and clear load errors."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import riposte
from riposte.knowledge import (
    KNOWLEDGE_DIR,
    LETTER_KINDS,
    REQUIRED_STEP_KEYS,
    KnowledgeError,
    load,
    load_from,
)

PACKAGE_DIR = Path(riposte.__file__).resolve().parent
REPORT_OR_REMOVAL_STEPS = (
    "report_to_platform",
    "pharos_report",
    "contact_author",
    "right_of_reply",
    "erasure_request",
    "cnil_complaint",
    "dsa_appeal",
    "block_authors",
)


def test_load_is_cached() -> None:
    assert load() is load()


def test_ladder_has_the_five_rungs_in_order() -> None:
    assert list(load().ladder) == ["preventive", "neutre", "pacifique", "defensive", "offensive"]


def test_ladder_contents_are_marked_uncertain() -> None:
    kb = load()
    assert all(rung.certainty == "a_verifier" for rung in kb.ladder.values())
    # Issue 16: the note says what comes from summaries of the guide and what Riposte added.
    assert "résumés publics du guide" in kb.ladder_note
    assert "ajouts de Riposte" in kb.ladder_note


@pytest.mark.parametrize(
    "needle",
    ["R.4127-4", "R.4127-31", "confirmer une relation de soin"],
)
def test_pacifique_rung_warns_about_secrecy_deontology_and_care_relationship(needle: str) -> None:
    risks = " ".join(load().ladder["pacifique"].risks)
    assert needle in risks


def test_offense_keys_are_exact() -> None:
    assert list(load().offenses) == [
        "insult",
        "defamation",
        "harassment",
        "threat",
        "doxxing",
        "impersonation",
        "privacy",
        "outrage",
        "malicious_messages",
        "deepfake",
    ]


@pytest.mark.parametrize(
    ("offense", "months", "start_from", "press"),
    [
        ("insult", 3, "first_published", True),
        ("defamation", 3, "first_published", True),
        ("harassment", 72, "last_seen", False),
        ("threat", 72, "first_published", False),
        ("doxxing", 72, "first_published", False),
        ("impersonation", 72, "first_published", False),
        ("privacy", 72, "first_published", False),
        ("outrage", 72, "first_published", False),
        ("malicious_messages", 72, "last_seen", False),
        ("deepfake", 72, "first_published", False),
    ],
)
def test_base_prescriptions(offense: str, months: int, start_from: str, press: bool) -> None:
    item = load().offenses[offense]
    assert item.prescription.months == months
    assert item.prescription.start_from == start_from
    assert item.press_offense is press


@pytest.mark.parametrize(
    ("offense", "public", "discriminatory", "variant", "months", "text"),
    [
        ("insult", True, False, "base", 3, "art. 33 al. 2"),
        ("insult", True, True, "discriminatory", 12, "art. 65-3"),
        ("defamation", True, True, "discriminatory", 12, "art. 65-3"),
        # Non-public insult/defamation: contravention R.621-1/R.621-2, 3 months (art. 65 as
        # applied by the Cour de cassation); discriminatory: R.625-8-1/R.625-8 (issue 16).
        ("insult", False, False, "private", 3, "R.621-2"),
        ("insult", False, True, "private_discriminatory", 3, "R.625-8-1"),
        ("defamation", False, False, "private", 3, "R.621-1"),
        ("harassment", False, False, "base", 72, "222-33-2-2"),
    ],
)
def test_qualify_picks_the_variant(
    offense: str, public: bool, discriminatory: bool, variant: str, months: int, text: str
) -> None:
    result = load().offenses[offense].qualify(public=public, discriminatory=discriminatory)
    assert result.variant == variant
    assert result.prescription.months == months
    assert any(text in t for t in result.texts)


@pytest.mark.parametrize(
    ("offense", "needle"),
    [
        ("harassment", "30 000 €"),
        ("outrage", "7 500 €"),
        ("threat", "45 000 €"),
        ("doxxing", "45 000 €"),
        ("impersonation", "15 000 €"),
        ("insult", "12 000 €"),
        ("defamation", "12 000 €"),
    ],
)
def test_penalties(offense: str, needle: str) -> None:
    assert needle in load().offenses[offense].penalty


def test_outrage_does_not_exist_before_the_2025_law() -> None:
    outrage = load().offenses["outrage"]
    # Issue 16: the law was published on 10/07/2025 and applies from the next day.
    assert outrage.not_before == date(2025, 7, 11)
    assert outrage.non_public_only is True


def test_every_offense_says_what_the_complaint_must_state() -> None:
    for offense in load().offenses.values():
        assert offense.complaint_must_state, offense.key
    assert any(
        "une seule qualification" in line.lower()
        for line in load().offenses["defamation"].complaint_must_state
    )


def test_required_step_keys_are_present() -> None:
    assert set(REQUIRED_STEP_KEYS) <= set(load().steps)


@pytest.mark.parametrize("order", ["standard", "urgent"])
def test_step_orders_put_safety_then_evidence_first(order: str) -> None:
    sequence = load().step_order[order]
    assert sequence[0] == "emergency_call"
    assert sequence[1] == "preserve_evidence"
    evidence = sequence.index("preserve_evidence")
    for key in REPORT_OR_REMOVAL_STEPS:
        assert sequence.index(key) > evidence, key
    assert sorted(sequence) == sorted(load().steps)


def test_urgent_order_files_the_complaint_right_after_evidence() -> None:
    assert load().step_order["urgent"][2] == "file_complaint"


def test_letters_are_attached_to_steps() -> None:
    kb = load()
    used = {step.letter for step in kb.steps.values() if step.letter}
    assert used == set(LETTER_KINDS)
    assert kb.steps["file_complaint"].letter == "procureur"
    assert kb.steps["functional_protection"].letter == "functional_protection"


PLATFORMS = [
    "x",
    "facebook",
    "instagram",
    "tiktok",
    "linkedin",
    "youtube",
    "telegram",
    "whatsapp",
    "snapchat",
    "reddit",
    "google_reviews",
    "review_site",
    "forum",
    "blog",
    "email",
    "sms",
    "other",
]


def test_platforms_raw_file_follows_the_extractor_contract() -> None:
    """Read the YAML directly, as the text extractor does."""
    raw = yaml.safe_load((KNOWLEDGE_DIR / "platforms.yml").read_text(encoding="utf-8"))
    assert list(raw["platforms"]) == PLATFORMS
    for key, entry in raw["platforms"].items():
        assert isinstance(entry["label"], str) and entry["label"], key
        assert isinstance(entry["public"], bool), key
        assert isinstance(entry["reply_in_place"], bool), key
        assert isinstance(entry["report"], str) and entry["report"], key
        assert entry["aliases"], key
        for alias in entry["aliases"]:
            assert alias == alias.lower(), alias
            assert alias.isascii(), alias


def test_x_platform_matches_the_contract_example() -> None:
    x = load().platforms["x"]
    assert x.label == "X (ex-Twitter)"
    assert {"twitter", "x", "tweet", "tweets", "twittos", "twiter"} <= set(x.aliases)
    assert x.public is True and x.reply_in_place is True
    assert x.report.startswith("Comment signaler")


def test_aliases_are_unique_across_platforms() -> None:
    owner: dict[str, str] = {}
    for platform in load().platforms.values():
        for alias in platform.aliases:
            assert alias not in owner, f"{alias} in {owner.get(alias)} and {platform.key}"
            owner[alias] = platform.key


@pytest.mark.parametrize(
    ("key", "public"),
    [("x", True), ("google_reviews", True), ("email", False), ("sms", False), ("whatsapp", False)],
)
def test_platform_publicity(key: str, public: bool) -> None:
    assert load().platforms[key].public is public


def test_offense_attributes_the_engine_branches_on() -> None:
    offenses = load().offenses.values()
    assert {o.key for o in offenses if o.pharos} == {"threat", "doxxing"}
    assert {o.key for o in offenses if o.no_contact} == {
        "threat",
        "doxxing",
        "harassment",
        "malicious_messages",
    }
    assert {o.key for o in offenses if o.personal_data} == {
        "doxxing",
        "privacy",
        "impersonation",
        "deepfake",
    }


@pytest.mark.parametrize(
    ("attribute", "offenses"),
    [
        ("pharos_redirect", {"insult", "defamation", "harassment"}),
        ("exposure", {"doxxing", "harassment", "privacy", "impersonation", "deepfake"}),
        ("victim_support", {"harassment", "threat", "malicious_messages", "deepfake"}),
        ("public_service_aggravation", {"doxxing", "privacy"}),
        ("employer_complaint", {"threat", "malicious_messages"}),
    ],
)
def test_more_offense_attributes(attribute: str, offenses: set[str]) -> None:
    assert {o.key for o in load().offenses.values() if getattr(o, attribute)} == offenses


def test_review_platforms() -> None:
    assert {p.key for p in load().platforms.values() if p.reviews} == {
        "google_reviews",
        "review_site",
    }


def test_private_channels_are_email_and_sms_and_never_public() -> None:
    platforms = load().platforms.values()
    assert {p.key for p in platforms if p.private} == {"email", "sms"}
    assert not any(p.private and p.public for p in platforms)


def test_platform_reports_invent_no_address() -> None:
    for platform in load().platforms.values():
        assert "http" not in platform.report, platform.key


def test_sources_cover_the_facts_file_and_say_how_they_were_checked() -> None:
    sources = load().sources
    for number in range(1, 63):
        assert f"S{number}" in sources
    for source in sources.values():
        # Sources re-checked or added for issue 16 carry the later date.
        assert source.last_checked in (date(2026, 11, 24), date(2026, 12, 6))
        assert "copie stockée" in source.note
        assert source.url.startswith("https://")


@pytest.mark.parametrize(
    ("key", "needles"),
    [
        ("emergency", ["17", "112"]),
        ("pharos", ["https://www.internet-signalement.gouv.fr"]),
        ("victim_support", ["116 006"]),
        ("digital_violence", ["3018"]),
    ],
)
def test_contacts(key: str, needles: list[str]) -> None:
    contact = load().contacts[key]
    flat = " ".join([*contact.phone, contact.url or "", contact.sms or ""])
    for needle in needles:
        assert needle in flat


def test_contacts_include_the_order_the_insurer_and_a_lawyer() -> None:
    contacts = load().contacts
    assert {"cdom", "insurer", "lawyer"} <= set(contacts)
    assert contacts["emergency"].sms == "114"


def test_missing_message_names_the_file_and_key() -> None:
    with pytest.raises(KnowledgeError, match=r"messages\.yml: warnings\.nope: missing message"):
        load().messages.get("warnings.nope")


def test_message_with_a_missing_placeholder_value_is_an_error() -> None:
    with pytest.raises(KnowledgeError, match=r"messages\.yml: warnings\.expired"):
        load().messages.get("warnings.expired", label="x")


# --------------------------------------------------------------------------- malformed data


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _set(*keys: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def _delete(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        (
            "offenses.yml",
            _set("offenses", "insult", "prescription", "months", value="trois"),
            "offenses.yml: offenses.insult.prescription.months",
        ),
        (
            "offenses.yml",
            _set("offenses", "threat", "prescription", "months", value=3),
            "offenses.yml: offenses.threat.prescription: give exactly one of months or years",
        ),
        (
            "offenses.yml",
            _set("offenses", "harassment", "prescription", "from", value="discovery"),
            "offenses.yml: offenses.harassment.prescription.from",
        ),
        (
            "offenses.yml",
            _delete("offenses", "outrage"),
            "offenses.yml: offenses: missing keys: outrage",
        ),
        (
            "steps.yml",
            _set("steps", "file_complaint", "sources", value=["S999"]),
            "steps.yml: steps.file_complaint.sources[0]: source 'S999' is not in sources.yml",
        ),
        (
            "steps.yml",
            _set("steps", "file_complaint", "letter", value="telegram"),
            "steps.yml: steps.file_complaint.letter",
        ),
        (
            "steps.yml",
            _set("order", "standard", value=["preserve_evidence"]),
            "steps.yml: order.standard: steps missing from the order",
        ),
        (
            "steps.yml",
            _delete("steps", "pharos_report"),
            "steps.yml: steps: missing keys: pharos_report",
        ),
        (
            "platforms.yml",
            _set("platforms", "x", "public", value="yes"),
            "platforms.yml: platforms.x.public: expected true or false",
        ),
        (
            "platforms.yml",
            _set("platforms", "x", "aliases", value=["Twitter"]),
            "platforms.yml: platforms.x.aliases[0]",
        ),
        (
            "platforms.yml",
            _delete("platforms", "sms"),
            "platforms.yml: platforms: missing keys: sms",
        ),
        (
            "offenses.yml",
            _delete("offenses", "threat", "pharos"),
            "offenses.yml: offenses.threat.pharos: missing key",
        ),
        (
            "offenses.yml",
            _set("offenses", "doxxing", "no_contact", value="oui"),
            "offenses.yml: offenses.doxxing.no_contact: expected true or false",
        ),
        (
            "offenses.yml",
            _delete("offenses", "privacy", "personal_data"),
            "offenses.yml: offenses.privacy.personal_data: missing key",
        ),
        (
            "offenses.yml",
            _delete("offenses", "threat", "employer_complaint"),
            "offenses.yml: offenses.threat.employer_complaint: missing key",
        ),
        (
            "platforms.yml",
            _set("platforms", "forum", "reviews", value=None),
            "platforms.yml: platforms.forum.reviews: expected true or false",
        ),
        (
            "platforms.yml",
            _delete("platforms", "email", "private"),
            "platforms.yml: platforms.email.private: missing key",
        ),
        (
            "platforms.yml",
            _set("platforms", "x", "private", value=True),
            "platforms.yml: platforms.x.private: a private channel cannot be public",
        ),
        (
            "ladder.yml",
            _delete("ladder", "offensive"),
            "ladder.yml: ladder: expected exactly these keys in this order",
        ),
        (
            "ladder.yml",
            _set("ladder", "neutre", "certainty", value="peut-etre"),
            "ladder.yml: ladder.neutre.certainty",
        ),
        (
            "ladder.yml",
            _set("ladder", "neutre", "typical_steps", value=["shout"]),
            "ladder.yml: ladder.neutre.typical_steps[0]: unknown step 'shout'",
        ),
        (
            "sources.yml",
            _set("sources", "S1", "last_checked", value="hier"),
            "sources.yml: sources.S1.last_checked",
        ),
        (
            "contacts.yml",
            _set("contacts", "pharos", "url", value="http://example.org"),
            "contacts.yml: contacts.pharos.url",
        ),
        (
            "messages.yml",
            _set("warnings", "expired", value="{label"),
            "messages.yml: warnings.expired: malformed placeholder",
        ),
    ],
)
def test_malformed_knowledge_names_file_and_key(
    tmp_path: Path,
    file: str,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    _edit(copy / file, change)
    with pytest.raises(KnowledgeError) as info:
        load_from(copy)
    assert expected in str(info.value)
    assert info.value.file == file


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (copy / "contacts.yml").write_text("contacts: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^contacts\.yml: \(file\): invalid YAML"):
        load_from(copy)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (copy / "ladder.yml").unlink()
    with pytest.raises(KnowledgeError, match=r"^ladder\.yml: \(file\): cannot read"):
        load_from(copy)


# --------------------------------------------------------------------------- code hygiene

CORE_MODULES = [
    PACKAGE_DIR / "advice" / "engine.py",
    PACKAGE_DIR / "advice" / "render.py",
    PACKAGE_DIR / "case.py",
    PACKAGE_DIR / "deadlines.py",
    PACKAGE_DIR / "cli" / "advise.py",
    PACKAGE_DIR / "knowledge" / "__init__.py",
]


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: p.name)
def test_no_french_text_in_python(path: Path) -> None:
    """User-facing French lives in the YAML files: no accented string literal in the code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    accented = re.compile(r"[àâäçéèêëîïôöùûüÿœæ«»]", re.IGNORECASE)
    offenders = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and accented.search(node.value)
    ]
    assert offenders == []


def test_importing_the_core_reads_no_file() -> None:
    code = (
        "import riposte.knowledge as k, riposte.case as c, riposte.advice.engine,"
        " riposte.cli.advise;"
        "print(k.load.cache_info().currsize, k.load_messages.cache_info().currsize,"
        " c.load_schema.cache_info().currsize)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "0", "0"]
