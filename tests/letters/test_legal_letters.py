"""What the letters must say, law by law (issue 16): one table per rule, the source in each name.

Cases are built here from a small base and rendered as of TODAY (24 November 2026); the texts
are read from the parsed letter (`Document`), section by section.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from riposte.letters.build import build_letter, find_motive, load_motives
from riposte.letters.model import Document
from tests.letters.samples import CASES, SAMPLES, TODAY

ROOT = Path(__file__).resolve().parents[2]
BLANK = "……………"

BASE: dict[str, Any] = {
    "victim": {
        "title": "Dr",
        "first_name": "Claire",
        "last_name": "Martin",
        "profession": "médecin généraliste",
        "practice": "liberal",
        "address": "3 rue Haute",
        "postal_code": "44000",
        "city": "Nantes",
        "email": "c.martin@exemple.fr",
    },
    "incident": {
        "platforms": ["x"],
        "offenses": ["insult"],
        "first_published": "2026-11-02",
        "public": True,
        "volume": "single",
        "author": {"known": False, "relation": "unknown", "handles": ["@troll"]},
        "summary": "Un compte me traite de charlatan sous mes publications.",
    },
    "evidence": [
        {
            "url": "https://x.com/troll/status/1",
            "captured_at": "2026-11-02T10:00:00+01:00",
            "excerpt": "Cette généraliste est une charlatane.",
            "published_at": "2026-11-02",
        }
    ],
}


def case(**changes: Any) -> dict[str, Any]:
    """BASE with `victim`, `incident` updated key by key and `evidence` replaced."""
    out = copy.deepcopy(BASE)
    for section in ("victim", "incident"):
        out[section].update(changes.pop(section, {}))
    out.update(changes)
    return out


class Letter:
    """A rendered letter's texts, with the typographic non-breaking spaces made plain."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def section_text(self, name: str) -> str:
        return plain(self.document.section_text(name))

    def plain_text(self) -> str:
        return plain(self.document.plain_text())

    def blocks(self, name: str, kind: str | None = None) -> list[str]:
        return [
            plain(b.text) for b in self.document.section(name) if kind is None or b.kind == kind
        ]


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def letter(data: dict[str, Any] | Path, kind: str = "procureur") -> Letter:
    return Letter(build_letter(data, kind, TODAY))


def first_sentence(document: Letter) -> str:
    return next(b for b in document.blocks("body") if b.startswith("Je soussigné"))


def press_section(document: Letter) -> str:
    """The numbered statements of the 1881-law section of the complaint."""
    return "\n".join(document.blocks("body", "numbered"))


def bullets(document: Letter, section: str = "body") -> list[str]:
    return document.blocks(section, "bullet")


# --------------------------------------------------------------------------- identity


@pytest.mark.parametrize(
    ("victim", "expected"),
    [
        (
            {"birth_date": "1978-03-12", "birth_place": "Rezé"},
            "Dr Claire MARTIN, né(e) le 12 mars 1978 à Rezé, médecin généraliste",
        ),
        ({}, f"Dr Claire MARTIN, né(e) le {BLANK} à {BLANK}, médecin généraliste"),
        ({"birth_date": "1978-03-01"}, f"né(e) le 1er mars 1978 à {BLANK},"),
        ({"birth_place": "Alger (Algérie)"}, f"né(e) le {BLANK} à Alger (Algérie),"),
    ],
)
def test_complainant_birth_date_and_place_or_blanks_service_public_f21613(
    victim: dict[str, Any], expected: str
) -> None:
    document = letter(case(victim=victim))
    assert expected in first_sentence(document)
    draft = document.section_text("draft")
    assert ("État civil" in draft) == (len(victim) < 2)


def test_birth_place_is_printed_as_typed() -> None:
    document = letter(case(victim={"birth_place": "<b>Lyon</b> {{ 7*7 }}"}))
    assert "à <b>Lyon</b> {{ 7*7 }}," in first_sentence(document)


# --------------------------------------------------------------------------- signature


@pytest.mark.parametrize(
    "data",
    [
        case(),
        case(incident={"offenses": ["threat"], "author": {"relation": "patient"}}),
        case(incident={"public": False, "platforms": ["email"]}),
    ],
    ids=["press", "threat", "private"],
)
def test_signature_by_hand_reminder_cass_crim_3_nov_2020_19_81_627(data: dict[str, Any]) -> None:
    draft = letter(data).section_text("draft")
    assert "signez-la à la main" in draft
    assert "Cass. crim., 3 novembre 2020, n° 19-81.627" in draft


# --------------------------------------------------------------------------- art. 65 al. 2

REQUISITIONS = "réquisitions aux fins d'enquête articulant et qualifiant les propos cités"


@pytest.mark.parametrize(
    ("data", "asked"),
    [
        (case(), True),
        (case(incident={"offenses": ["defamation"]}), True),
        (case(incident={"offenses": ["insult"], "discriminatory": True}), True),
        (case(incident={"offenses": ["threat"], "author": {"relation": "patient"}}), False),
        (case(incident={"public": False, "platforms": ["email"]}), False),
    ],
    ids=["insult", "defamation", "discriminatory", "threat", "private-insult"],
)
def test_press_complaint_asks_for_requisitions_art_65_al_2_loi_1881(
    data: dict[str, Any], asked: bool
) -> None:
    requests = bullets(letter(data))
    assert any(REQUISITIONS in item and "art. 65, alinéa 2" in item for item in requests) == asked


# --------------------------------------------------------------------------- art. 131-35-1

SUSPENSION = "peine complémentaire de suspension des comptes d'accès aux services en ligne"


@pytest.mark.parametrize(
    ("data", "asked"),
    [
        (case(), True),
        (case(incident={"offenses": ["harassment"], "volume": "repeated"}), True),
        # E-mail only: no online platform account to suspend.
        (
            case(
                incident={
                    "offenses": ["threat"],
                    "platforms": ["email"],
                    "public": False,
                    "author": {"relation": "patient"},
                }
            ),
            False,
        ),
        # Every fact before the penalty existed (loi n° 2024-449, in force 23 May 2024).
        (
            case(
                incident={
                    "offenses": ["harassment"],
                    "volume": "repeated",
                    "first_published": "2024-01-10",
                    "last_seen": "2024-03-01",
                },
                evidence=[
                    {
                        "url": "https://x.com/troll/status/1",
                        "captured_at": "2024-01-10T10:00:00+01:00",
                        "excerpt": "charlatane",
                        "published_at": "2024-01-10",
                    }
                ],
            ),
            False,
        ),
        # A contravention only (non-public insult on a messaging app).
        (case(incident={"public": False, "platforms": ["whatsapp"]}), None),
    ],
    ids=["insult", "harassment", "email-threat", "before-2024-05-23", "contravention"],
)
def test_account_suspension_requested_art_131_35_1_loi_sren(
    data: dict[str, Any], asked: bool | None
) -> None:
    document = letter(data)
    requests = bullets(document)
    found = any(SUSPENSION in item and "131-35-1" in item for item in requests)
    if asked is None:
        # Only a contravention retained: no délit, hence no request (an outrage délit, when the
        # engine adds one, may bring it back).
        retained_delit = "Compétence" not in document.section_text("draft")
        assert found == retained_delit
    else:
        assert found == asked
        assert ("Suspension des comptes" in document.section_text("draft")) == asked


def test_account_suspension_names_the_accounts_used() -> None:
    data = case(incident={"author": {"known": False, "handles": ["@a", "@b"]}})
    request = next(item for item in bullets(letter(data)) if SUSPENSION in item)
    assert "(en particulier @a et @b)" in request


# --------------------------------------------------------------------------- art. 65: statements

CAMPAIGN = CASES / "press_statements_old_open.json"


def test_only_open_statements_are_quoted_art_65_each_publication() -> None:
    """Art. 65 of the 1881 law: « à compter du jour où ils auront été commis », per statement."""
    document = letter(CAMPAIGN)
    quoted = press_section(document)
    assert "Charlatane un jour, charlatane toujours." in quoted
    assert "Toujours aussi escroc, la Benali." in quoted
    assert "Le Dr Benali est une charlatane." not in quoted
    assert "Escroc de la vaccination" not in quoted
    assert "(pièce n° 1)" not in quoted and "(pièce n° 2)" not in quoted
    body = document.section_text("body")
    assert "Les propos des pièces n° 1 et 2, publiés le 1er juin 2026 et le 1er août 2026" in body
    assert "ils ne sont pas visés par la présente plainte" in body
    # The old statements stay in the story and the exhibits.
    assert "Le Dr Benali est une charlatane." in body
    assert "Le Dr Benali est une charlatane." in document.section_text("enclosures")


def test_too_old_statements_are_named_in_the_draft() -> None:
    draft = letter(CAMPAIGN).section_text("draft")
    assert "Propos trop anciens" in draft
    assert "pièce n° 1 (publiés le 1er juin 2026, délai expiré le 1er septembre 2026)" in draft
    assert "pièce n° 2 (publiés le 1er août 2026, délai expiré le 1er novembre 2026)" in draft


def test_first_open_deadline_on_a_holiday_gives_the_working_day_before() -> None:
    """No extension of the art. 65 period on a public holiday (1 January 2027: act by 31 Dec)."""
    draft = letter(CAMPAIGN).section_text("draft")
    assert "ne pourra plus être poursuivi après le 1er janvier 2027" in draft
    assert "Le 1er janvier 2027 est un jour férié (jour de l'an)" in draft
    assert "agissez au plus tard le jeudi 31 décembre 2026" in draft


def test_deadline_on_a_saturday_gives_the_friday_before() -> None:
    """Published 12 Sept. 2026: the 3 months end on Saturday 12 Dec. 2026, act by Friday 11."""
    data = case(
        incident={"first_published": "2026-09-12"},
        evidence=[
            {
                "url": "https://x.com/troll/status/1",
                "captured_at": "2026-09-12T10:00:00+02:00",
                "excerpt": "charlatane",
                "published_at": "2026-09-12",
            }
        ],
    )
    draft = letter(data).section_text("draft")
    assert "expire le 12 décembre 2026" in draft
    assert "Le 12 décembre 2026 est un samedi" in draft
    assert "agissez au plus tard le vendredi 11 décembre 2026" in draft


def test_undated_statements_are_quoted_and_the_date_used_is_said() -> None:
    data = case(evidence=[{"url": "https://x.com/troll/status/1", "excerpt": "charlatane"}])
    document = letter(data)
    assert "« charlatane »" in press_section(document)
    assert "compté à partir de la première publication" in document.section_text("draft")


# --------------------------------------------------------------------------- one paragraph

ORIGIN = "Retourne dans ton pays, sale arabe."
GENDER = "Espèce de sale pédé, va soigner tes copains."
NEUTRAL = "Tu n'es qu'une charlatane."


def statement(text: str) -> list[dict[str, Any]]:
    return [{"url": "https://x.com/troll/status/1", "excerpt": text, "published_at": "2026-11-02"}]


@pytest.mark.parametrize(
    ("offense", "public", "excerpt", "cited", "not_cited"),
    [
        ("insult", True, ORIGIN, "art. 33 al. 3", ["art. 33 al. 4", "art. 33 al. …"]),
        ("insult", True, GENDER, "art. 33 al. 4", ["art. 33 al. 3", "art. 33 al. …"]),
        ("insult", True, NEUTRAL, "art. 33 al. …", ["art. 33 al. 3", "art. 33 al. 4"]),
        ("insult", True, f"{ORIGIN} {GENDER}", "art. 33 al. …", ["al. 3 (", "al. 4 ("]),
        ("defamation", True, ORIGIN, "art. 32 al. 2", ["art. 32 al. 3", "art. 32 al. …"]),
        ("defamation", True, GENDER, "art. 32 al. 3", ["art. 32 al. 2", "art. 32 al. …"]),
        ("insult", False, ORIGIN, "R.625-8-1 al. 1", ["R.625-8-1 al. 2", "R.625-8-1 al. …"]),
        ("defamation", False, GENDER, "R.625-8 al. 2", ["R.625-8 al. 1", "R.625-8 al. …"]),
    ],
)
def test_only_the_paragraph_of_the_motive_is_cited_art_32_33_loi_1881(
    offense: str, public: bool, excerpt: str, cited: str, not_cited: list[str]
) -> None:
    """Alternative paragraphs in a complaint risk nullity (art. 50 and 53 of the 1881 law)."""
    platforms = ["x"] if public else ["email"]
    data = case(
        incident={
            "offenses": [offense],
            "discriminatory": True,
            "public": public,
            "platforms": platforms,
        },
        evidence=statement(excerpt),
    )
    for kind in ("procureur", "platform_notice") if public else ("procureur",):
        document = letter(data, kind)
        text = document.section_text("body")
        assert cited in text, kind
        for other in not_cited:
            assert other not in text, (kind, other)
        draft = document.section_text("draft")
        if "…" in cited:
            assert "Alinéa à compléter" in draft and "Alinéa du mobile" not in draft
        else:
            assert "Alinéa du mobile" in draft and "Alinéa à compléter" not in draft


def test_every_discriminatory_variant_of_the_knowledge_has_its_paragraphs() -> None:
    """The letter data must find the alternative lines the knowledge files give."""
    from riposte.knowledge import load

    kb = load()
    motives = load_motives()
    for (offense, variant), rule in motives.paragraphs.items():
        texts = kb.offenses[offense].variants[variant].texts
        alternatives = [t for t in texts if rule.marker in " ".join(t.lower().split())]
        assert len(alternatives) == 2, (offense, variant)


@pytest.mark.parametrize(
    ("words", "motive"),
    [
        ("sale arabe", "origin"),
        ("RETOURNE DANS TON PAYS", "origin"),
        ("espèce de pédé", "gender_disability"),
        ("une femelle hystérique", "gender_disability"),
        ("charlatan", None),
        ("sale arabe handicapé", None),
    ],
)
def test_motive_is_read_from_the_quoted_words(words: str, motive: str | None) -> None:
    assert find_motive([words]) == motive


# --------------------------------------------------------------------------- art. 15-3-4 CPP

EMPLOYER_LIMIT = (
    "elle ne couvre ni le harcèlement, ni l'injure, ni la diffamation, ni l'outrage, "
    "ni la divulgation d'informations personnelles"
)


@pytest.mark.parametrize(
    ("kind", "incident", "employer", "own"),
    [
        (
            "procureur",
            {"offenses": ["threat"], "author": {"relation": "patient"}},
            "Pour les faits de menace",
            None,
        ),
        ("procureur", {"offenses": ["insult"]}, None, "Pour les faits d'injure publique"),
        (
            "functional_protection",
            {"offenses": ["threat"], "author": {"relation": "patient"}},
            "Pour les faits de menace",
            None,
        ),
        (
            "functional_protection",
            {"offenses": ["insult", "threat"], "volume": "repeated"},
            "Pour les faits de menace",
            "harcèlement moral en ligne",
        ),
        # A colleague is a health professional: the employer cannot file (art. 15-3-4 al. 1).
        (
            "functional_protection",
            {"offenses": ["threat"], "author": {"relation": "colleague"}},
            None,
            "Pour les faits de menace",
        ),
    ],
)
def test_employer_complaint_only_for_the_offences_of_art_15_3_4_cpp(
    kind: str, incident: dict[str, Any], employer: str | None, own: str | None
) -> None:
    data = case(victim={"practice": "hospital", "profession": "praticien hospitalier"})
    data["incident"].update(incident)
    draft = letter(data, kind).section_text("draft")
    assert EMPLOYER_LIMIT in draft
    line = next(line for line in draft.split("\n") if "15-3-4" in line)
    assert "prévue par l'art. 15-3-4 du code de procédure pénale" in line
    assert "à vérifier" not in line
    if employer:
        assert f"{employer}" in line and "votre employeur peut, avec votre accord écrit" in line
    else:
        assert "votre employeur peut, avec votre accord écrit" not in line
    if own:
        assert own.lower() in line.split("la plainte doit venir de vous")[0].lower()
    else:
        assert "la plainte doit venir de vous" not in line
    colleague = incident.get("author", {}).get("relation") == "colleague"
    assert ("exclue lorsque l'auteur est un professionnel de santé" in line) == colleague


@pytest.mark.parametrize("kind", ["procureur", "cdom_declaration"])
def test_ordre_and_urps_complaint_is_not_yet_applicable_art_15_3_4_cpp(kind: str) -> None:
    draft = letter(case(), kind).section_text("draft")
    assert "prévu par la loi, pas encore applicable" in draft
    assert "15-3-4" in draft


# --------------------------------------------------------------------------- the circular


def test_functional_protection_cites_the_circular_by_its_number_cng() -> None:
    """CNG, « Protection fonctionnelle » (https://www.cng.sante.fr/node/98352)."""
    data = case(victim={"practice": "hospital", "profession": "praticien hospitalier"})
    text = letter(data, "functional_protection").plain_text()
    assert "circulaire interministérielle n° DGOS/RH4/DGCS/DGAFP/2024/3 du 29 mai 2024" in text
    assert "23 mai 2024" not in text


# --------------------------------------------------------------------------- wording


FORBIDDEN = re.compile(r"document de faits|faits-juridiques|/work/shared|l'équipe|\baudit\b", re.I)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_no_letter_mentions_internal_documents(sample: Any) -> None:
    text = Letter(build_letter(sample.case_path, sample.kind, TODAY, sample.options)).plain_text()
    assert not FORBIDDEN.search(text)


def test_no_letter_template_or_letter_data_mentions_internal_documents() -> None:
    paths = [*(ROOT / "templates" / "letters").glob("*.j2")]
    paths += [*(ROOT / "riposte" / "letters" / "data").glob("*.yml")]
    for path in paths:
        assert not FORBIDDEN.search(path.read_text(encoding="utf-8")), path.name
