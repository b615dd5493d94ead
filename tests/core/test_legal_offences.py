"""Issue 16, the offences doctors meet and the laws' start dates: one test at least per rule.

Each test names the public source it relies on (the ids are those of
riposte/knowledge/sources.yml, where the address and the date of the check are recorded).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from riposte.advice.engine import Advice
from riposte.case import load_case
from riposte.knowledge import KNOWLEDGE_DIR, KnowledgeError, load, load_from
from riposte.nlp.extract import extract_facts
from tests.core.cases import TODAY, case_advice


def private_insult(**fields: Any) -> Advice:
    """A private e-mail insult (the outrage and private-variant situations)."""
    base: dict[str, Any] = {"offenses": ["insult"], "public": False, "platforms": ["email"]}
    base.update(fields)
    return case_advice(**base)


def quals(advice: Advice) -> list[tuple[str, str]]:
    return [(q.offense, q.variant) for q in advice.qualifications]


def qual(advice: Advice, offense: str) -> Any:
    return next(q for q in advice.qualifications if q.offense == offense)


def keys(advice: Advice) -> set[str]:
    return set(advice.step_keys())


def warning(path: str, **values: object) -> str:
    return load().messages.get(path, **values)


# --------------------------------------------------------------------------- new offences


@pytest.mark.parametrize(
    ("offense", "texts", "penalty", "months", "start_from"),
    [
        # S100: art. 222-16, 1 year and €15,000; 6 years (art. 8 CPP) from the last message.
        ("malicious_messages", ["art. 222-16"], ["1 an", "15 000 €"], 72, "last_seen"),
        # S102: art. 226-8 (1 year/€15,000, 2 years/€45,000 online), 226-8-1 (sexual content).
        (
            "deepfake",
            ["art. 226-8 ", "art. 226-8-1"],
            ["15 000 €", "2 ans et 45 000 €", "2 ans et 60 000 €"],
            72,
            "first_published",
        ),
    ],
)
def test_new_offence_in_the_knowledge_base(
    offense: str, texts: list[str], penalty: list[str], months: int, start_from: str
) -> None:
    """S100 (code-penal.fr, art. 222-16) and S102 (art. 226-8 and 226-8-1, loi SREN)."""
    item = load().offenses[offense]
    joined = " | ".join(item.texts) + " "
    for needle in texts:
        assert needle in joined
    for needle in penalty:
        assert needle in item.penalty
    assert item.prescription.months == months
    assert item.prescription.start_from == start_from
    assert item.press_offense is False
    assert item.certainty == "sur"


def test_malicious_messages_are_qualified_from_the_last_message() -> None:
    """S100: art. 222-16 ; 6 years from the last call or message (art. 8 CPP, S34)."""
    advice = case_advice(
        offenses=["malicious_messages"],
        public=False,
        platforms=["sms"],
        first_published="2026-09-01",
        last_seen="2026-11-20",
        volume="repeated",
    )
    q = qual(advice, "malicious_messages")
    assert q.variant == "base"
    assert q.prescription.deadline == date(2032, 11, 20)
    assert "pharos_report" not in keys(advice)
    assert "contact_author" not in keys(advice)
    assert "victim_support" in keys(advice)


def test_deepfake_is_qualified_and_its_removal_asked() -> None:
    """S102: a generated video published online without consent is art. 226-8 (2 years and
    €45,000 online); the doctor's image is personal data, so erasure is asked."""
    advice = case_advice(offenses=["deepfake"], platforms=["tiktok"], first_published="2026-10-02")
    q = qual(advice, "deepfake")
    assert q.prescription.deadline == date(2032, 10, 2)
    assert "45 000 €" in q.penalty
    assert {"erasure_request", "report_to_platform", "file_complaint"} <= keys(advice)
    assert "pharos_report" not in keys(advice)


# --------------------------------------------------------------------------- start dates


@pytest.mark.parametrize(
    ("offense", "before", "after", "fields"),
    [
        # S106: loi 2025-623, JO of 10/07/2025, applicable the next day.
        (
            "outrage",
            "2025-07-10",
            "2025-07-11",
            {"offenses": ["insult"], "public": False, "platforms": ["email"], "about_work": True},
        ),
        # S107: art. 223-1-1 created by loi 2021-1109 (JO of 25/08/2021), consolidated 26/08.
        ("doxxing", "2021-08-25", "2021-08-26", {"offenses": ["doxxing"]}),
        # S102: loi SREN 2024-449, in force on 23/05/2024.
        ("deepfake", "2024-05-22", "2024-05-23", {"offenses": ["deepfake"]}),
    ],
)
def test_laws_apply_from_their_start_date(
    offense: str, before: str, after: str, fields: dict[str, Any]
) -> None:
    """S106 (outrage, 11/07/2025), S107 (doxxing, 26/08/2021), S102 (deepfake, 23/05/2024):
    facts all before the date are not qualified under that text, and a warning says why."""
    item = load().offenses[offense]
    assert item.not_before == date.fromisoformat(after)
    too_early = case_advice(first_published=before, **fields)
    in_time = case_advice(first_published=after, **fields)
    assert offense not in [q.offense for q in too_early.qualifications]
    assert offense in [q.offense for q in in_time.qualifications]
    expected = warning(
        "warnings.before_law",
        label=item.label,
        date=date.fromisoformat(after).strftime("%d/%m/%Y"),
        law=item.not_before_law,
    )
    assert expected in too_early.warnings
    assert expected not in in_time.warnings


@pytest.mark.parametrize(
    ("offense", "published"), [("deepfake", "2024-01-10"), ("doxxing", "2021-06-10")]
)
def test_facts_before_the_law_are_not_a_lawful_criticism(offense: str, published: str) -> None:
    """S102, S107: when the only offence predates its text, nothing is qualified, but the
    doctor is not told it is a lawful criticism: removal steps and a lawyer remain."""
    advice = case_advice(offenses=[offense], first_published=published)
    assert advice.qualifications == ()
    assert warning("strategy.lawful") not in advice.strategy.why
    assert warning("strategy.before_law_only") in advice.strategy.why
    assert advice.strategy.level == "defensive"
    assert {"report_to_platform", "consult_lawyer", "block_authors"} <= keys(advice)
    assert "file_complaint" not in keys(advice)


def test_a_later_dated_statement_keeps_the_text() -> None:
    """S106: the start date excludes a text only when every known date of the facts is older;
    a statement published after 11/07/2025 is an outrage."""
    advice = private_insult(
        first_published="2025-07-01",
        about_work=True,
        evidence=[{"excerpt": "…", "published_at": "2025-08-01"}],
    )
    assert "outrage" in [q.offense for q in advice.qualifications]


def test_outrage_already_covered_a_hospital_doctor_before_2025() -> None:
    """S106 (fspf.fr: outrage already applied to hospital staff) and S33b: for a hospital
    doctor, art. 433-5 protected the person in charge of a public-service mission before the
    2025 law; the start date does not exclude it, and a warning says why."""
    advice = private_insult(first_published="2025-07-01", about_work=True, practice="hospital")
    item = load().offenses["outrage"]
    assert "outrage" in [q.offense for q in advice.qualifications]
    assert (
        warning(
            "warnings.start_date_exempt",
            label=item.label,
            date="11/07/2025",
            law=item.not_before_law,
        )
        in advice.warnings
    )


def test_every_dated_offence_names_its_law() -> None:
    """S106, S107, S102: each start date comes with the law that set it (data-driven)."""
    dated = {k: o for k, o in load().offenses.items() if o.not_before is not None}
    assert set(dated) == {"doxxing", "outrage", "deepfake"}
    for offense in dated.values():
        assert offense.not_before_law and "loi n°" in offense.not_before_law


def _copy_knowledge(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / "offenses.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["offenses"]["outrage"].pop("not_before_law"),
            "offenses.outrage: not_before and not_before_law go together",
        ),
        (
            lambda d: d["offenses"]["harassment"].update(not_before="2018-08-06"),
            "offenses.harassment: not_before and not_before_law go together",
        ),
        (
            lambda d: d["offenses"]["outrage"].update(not_before_except_practice=["clinic"]),
            "offenses.outrage.not_before_except_practice[0]: unknown practice 'clinic'",
        ),
        (
            lambda d: d["offenses"]["threat"]["variants"].update(
                elsewhere=d["offenses"]["threat"]["variants"]["health_professional"]
            ),
            "offenses.threat.variants.elsewhere: unknown variant",
        ),
    ],
)
def test_start_dates_and_variants_are_validated(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    """A start date without its law, or an unknown practice or variant, is refused."""
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        load_from(_copy_knowledge(tmp_path, change))


# --------------------------------------------------------------------------- pharos


@pytest.mark.parametrize(
    ("fields", "pharos", "redirected"),
    [
        # S108: threats or incitement to violence, endangering someone, hate or discrimination.
        ({"offenses": ["threat"]}, True, False),
        ({"offenses": ["doxxing"]}, True, False),
        ({"offenses": ["insult"], "discriminatory": True}, True, False),
        ({"offenses": ["harassment"], "discriminatory": True, "volume": "raid"}, True, False),
        # S108 (service-public F31979): not insult or defamation aimed at one person.
        ({"offenses": ["insult"]}, False, True),
        ({"offenses": ["defamation"]}, False, True),
        # Not harassment alone.
        ({"offenses": ["harassment"], "volume": "raid"}, False, True),
        ({"offenses": ["insult"], "volume": "repeated"}, False, True),
        # Private messages never go to Pharos.
        ({"offenses": ["threat"], "public": False, "platforms": ["sms"]}, False, False),
    ],
)
def test_pharos_only_for_what_it_handles(
    fields: dict[str, Any], pharos: bool, redirected: bool
) -> None:
    """S108 (police-nationale.interieur.gouv.fr, service-public.fr F31979) and S109
    (17Cyber): Pharos for threats, hate or discrimination and endangering someone only."""
    advice = case_advice(**fields)
    assert ("pharos_report" in keys(advice)) is pharos
    note = warning("warnings.pharos_not_for_private_disputes")
    assert (note in advice.warnings) is redirected


def test_pharos_texts_no_longer_claim_harassment() -> None:
    """S108: the Pharos step and contact list its real scope and send elsewhere the rest."""
    kb = load()
    pharos_step = kb.steps["pharos_report"]
    assert "harcèlement)" not in pharos_step.what
    assert "ni le harcèlement entre particuliers" in pharos_step.how
    assert "17cyber.gouv.fr" in pharos_step.how
    assert "cyber17" in pharos_step.contacts
    assert "harcèlement)" not in kb.contacts["pharos"].purpose
    assert "diffamation" in kb.contacts["pharos"].when


# --------------------------------------------------------------------------- outrage and work


@pytest.mark.parametrize(
    ("offenses", "relation", "about_work", "outrage", "note"),
    [
        # S106 (macsf.fr): words addressed in or because of the doctor's work.
        (["insult"], "patient", None, True, None),
        (["insult"], "unknown", True, True, None),
        (["insult"], "patient", False, False, None),
        (["insult"], "unknown", None, False, "warnings.outrage_if_about_work"),
        (["insult"], "other", False, False, None),
        (["defamation"], "patient", None, True, None),
        # Outrage listed by the doctor: dropped when the words are not about the work,
        # kept (the complaint must show the link) when nothing is said.
        (["outrage"], "unknown", False, False, "warnings.outrage_not_about_work"),
        (["outrage"], "unknown", None, True, "warnings.outrage_work_link"),
    ],
)
def test_outrage_only_for_words_about_the_work(
    offenses: list[str], relation: str, about_work: bool | None, outrage: bool, note: str | None
) -> None:
    """S106 (art. 433-5 as extended by loi 2025-623, macsf.fr): the engine no longer adds
    outrage to every private insult; rule: `about_work` when given, else a patient author."""
    fields: dict[str, Any] = {"offenses": offenses, "author": {"relation": relation}}
    if about_work is not None:
        fields["about_work"] = about_work
    advice = private_insult(**fields)
    assert ("outrage" in [q.offense for q in advice.qualifications]) is outrage
    if note is not None:
        assert warning(note) in advice.warnings


def test_outrage_penalty_and_definition() -> None:
    """S106: €7,500; 6 months and €7,500 in a place of care, at the patient's home or by
    several people; only words addressed in or because of the work."""
    outrage = load().offenses["outrage"]
    assert "7 500 € d'amende ; 6 mois d'emprisonnement et 7 500 €" in outrage.penalty
    assert "domicile du patient" in outrage.penalty and "en réunion" in outrage.penalty
    assert "à l'occasion de l'exercice" in outrage.definition
    assert "montant à vérifier" not in outrage.penalty


# --------------------------------------------------------------------------- threat variant


@pytest.mark.parametrize(
    ("relation", "about_work", "variant", "note"),
    [
        # S101: art. 433-3 for a threat against a health professional in their functions.
        ("patient", None, "health_professional", "warnings.threat_health_professional"),
        ("unknown", True, "health_professional", "warnings.threat_health_professional"),
        ("other", True, "health_professional", "warnings.threat_health_professional"),
        ("unknown", None, "base", "warnings.threat_if_about_work"),
        ("patient", False, "base", None),
        ("colleague", None, "base", "warnings.threat_if_about_work"),
    ],
)
def test_threat_against_a_health_professional(
    relation: str, about_work: bool | None, variant: str, note: str | None
) -> None:
    """S101 (art. 433-3, doctrine.fr; macsf.fr; dentaire365.fr): 3 years and €45,000, 5 years
    and €75,000 for a death threat, one threat suffices; chosen when the threat concerns the
    doctor's work (`about_work`, else a patient author)."""
    fields: dict[str, Any] = {"offenses": ["threat"], "author": {"relation": relation}}
    if about_work is not None:
        fields["about_work"] = about_work
    advice = case_advice(**fields)
    q = qual(advice, "threat")
    assert q.variant == variant
    if variant == "health_professional":
        assert q.texts[0].startswith("Code pénal, art. 433-3")
        assert "3 ans d'emprisonnement et 45 000 €" in q.penalty
        assert "5 ans et 75 000 €" in q.penalty
        assert "Une seule menace suffit" in q.penalty
    else:
        assert "222-17" in q.texts[0]
    if note is not None:
        assert warning(note) in advice.warnings


# --------------------------------------------------------------------------- discriminatory


@pytest.mark.parametrize(
    ("offense", "public", "variant", "paragraphs", "penalty", "months"),
    [
        # S104: art. 33 al. 3 / al. 4 and art. 32 al. 2 / al. 3; 1 year and €45,000; art. 65-3.
        ("insult", True, "discriminatory", ["art. 33 al. 3", "art. 33 al. 4"], "45 000 €", 12),
        ("defamation", True, "discriminatory", ["art. 32 al. 2", "art. 32 al. 3"], "45 000 €", 12),
        # S103: R.625-8-1 (insult) and R.625-8 (defamation), 5th-class fine; 3 months (S64).
        (
            "insult",
            False,
            "private_discriminatory",
            ["R.625-8-1 al. 1", "R.625-8-1 al. 2"],
            "1 500 €",
            3,
        ),
        (
            "defamation",
            False,
            "private_discriminatory",
            ["R.625-8 al. 1", "R.625-8 al. 2"],
            "1 500 €",
            3,
        ),
    ],
)
def test_discriminatory_forms(
    offense: str,
    public: bool,
    variant: str,
    paragraphs: list[str],
    penalty: str,
    months: int,
) -> None:
    """S104 (Légifrance art. 33, doctrine.fr art. 32) and S103 (décret 2017-1230): the
    paragraph depends on the motive, each on its own line so that only the matching one is
    cited; the complaint must cite one paragraph only."""
    fields: dict[str, Any] = {"offenses": [offense], "discriminatory": True, "public": public}
    if not public:
        fields["platforms"] = ["email"]
    advice = case_advice(**fields)
    q = qual(advice, offense)
    assert q.variant == variant
    assert q.certainty == "sur"
    for needle in paragraphs:
        assert sum(needle in text for text in q.texts) == 1
    assert penalty in q.penalty
    assert "à vérifier" not in q.penalty
    assert q.prescription.months == months
    assert "orientation sexuelle ou l'identité de genre" in " ".join(q.texts)
    assert warning("warnings.discriminatory_one_paragraph") in advice.warnings
    must_state = " ".join(load().offenses[offense].complaint_must_state)
    assert "seulement l'alinéa qui correspond à ce mobile" in must_state


def test_public_discriminatory_penalty_is_confirmed() -> None:
    """S104: 1 year and €45,000, no longer "à vérifier"; "identité de genre" wording."""
    for offense in ("insult", "defamation"):
        form = load().offenses[offense].variants["discriminatory"]
        assert form.penalty == "1 an d'emprisonnement et 45 000 € d'amende."
        assert form.certainty == "sur"
        assert "identité sexuelle" not in form.prescription.rule
        assert "identité de genre" in form.prescription.rule


@pytest.mark.parametrize("offense", ["insult", "defamation"])
def test_non_public_insult_and_defamation_three_months_is_sure(offense: str) -> None:
    """S63, S64 (Cass. crim. 23 juin 1964; loi1881.fr): art. 65 applies to non-public insult
    and defamation; 3 months, certainty sure."""
    form = load().offenses[offense].variants["private"]
    assert form.prescription.months == 3
    assert form.prescription.certainty == "sur"
    assert form.certainty == "sur"


def test_privacy_is_aggravated_for_a_public_service_mission() -> None:
    """S105 (art. 226-1 as amended by loi 2024-247): 2 years and €60,000 when the victim is
    in charge of a public-service mission."""
    privacy = load().offenses["privacy"]
    assert "2 ans et 60 000 €" in privacy.penalty
    assert "montant à vérifier" not in privacy.penalty


# --------------------------------------------------------------------------- steps, contacts


def test_contacts_17cyber_and_arcom() -> None:
    """S109 (17Cyber, 24/7 online assistance) and S110 (DSA art. 53, Arcom)."""
    contacts = load().contacts
    assert contacts["cyber17"].url == "https://17cyber.gouv.fr"
    assert contacts["cyber17"].hours == "24 h/24, 7 j/7"
    assert "article 53" in contacts["arcom"].purpose
    assert "arcom" in load().steps["dsa_appeal"].contacts
    assert "cyber17" in load().steps["file_complaint"].contacts


def test_conciliation_goes_in_parallel_and_the_disciplinary_route_exists() -> None:
    """S112 (art. L.4123-2 CSP): conciliation within one month, referral to the chambre
    disciplinaire within three months; R.4127-56 does not bar legal action (S16)."""
    steps = load().steps
    assert "avant toute autre action" not in steps["cdom_conciliation"].what
    assert "en parallèle" in steps["cdom_conciliation"].what
    route = steps["disciplinary_complaint"]
    assert "L.4123-2" in route.what
    assert "dans le mois" in route.how and "dans les trois mois" in route.how
    advice = case_advice(offenses=["defamation"], author={"known": True, "relation": "colleague"})
    assert {"cdom_conciliation", "disciplinary_complaint"} <= keys(advice)
    assert "disciplinary_complaint" not in keys(case_advice())


def test_who_can_file_for_the_doctor() -> None:
    """S111 (art. 15-3-4 CPP): the employer's complaint covers only the listed offences
    (222-16, 222-17, 222-18, 433-3…); the Ordre's and URPS's complaints await a decree."""
    steps = load().steps
    how = steps["functional_protection"].how
    for needle in ("15-3-4", "222-16", "433-3", "Pas pour le harcèlement, l'injure"):
        assert needle in how
    assert "prévu par la loi, pas encore applicable" in steps["inform_cdom"].how


def test_ladder_marks_riposte_own_additions() -> None:
    """S5, S10 (summaries of the Ordre's 2018 guide): the DSA notice, the CNIL route and the
    right of reply are Riposte's own additions, not attributed to the guide."""
    kb = load()
    assert set(kb.ladder["defensive"].riposte_additions) == {
        "right_of_reply",
        "cnil_complaint",
        "dsa_appeal",
    }
    assert "Ajouts de Riposte" in kb.ladder["defensive"].meaning
    assert "guide" not in kb.steps["contact_author"].why


def test_new_sources_are_recorded_with_the_check_date() -> None:
    """Every source used for issue 16 (S100-S113) is recorded, checked on 06/12/2026."""
    sources = load().sources
    for number in range(100, 114):
        source = sources[f"S{number}"]
        assert source.last_checked == date(2026, 12, 6)
        assert "copie stockée" in source.note
    assert "DGOS/RH4/DGCS/DGAFP/2024/3 du 29 mai 2024" in sources["S113"].title


# --------------------------------------------------------------------------- no internal docs

INTERNAL = ("document de faits", "de l'équipe", "de l’équipe", "faits-juridiques", "/work/shared")


@pytest.mark.parametrize("path", sorted(KNOWLEDGE_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_no_knowledge_text_mentions_internal_documents(path: Path) -> None:
    """Users must never read about the project's internal documents (issue 16, point 5): no
    knowledge YAML file (messages.yml included), comments included, names them."""
    text = path.read_text(encoding="utf-8").lower()
    for needle in INTERNAL:
        assert needle not in text, needle


# --------------------------------------------------------------------------- case format, nlp


def test_case_format_accepts_the_new_keys_and_about_work() -> None:
    """The schema lists the new offence keys and the optional `about_work` flag."""
    case = load_case(
        {"incident": {"offenses": ["malicious_messages", "deepfake"], "about_work": True}},
        today=TODAY,
    )
    assert case.incident is not None
    assert case.incident.offenses == ("malicious_messages", "deepfake")
    assert case.incident.about_work is True
    assert case.to_dict()["incident"]["about_work"] is True
    old = load_case({"incident": {"offenses": ["insult"]}}, today=TODAY)
    assert old.incident is not None and old.incident.about_work is None


@pytest.mark.parametrize(
    ("text", "offense"),
    [
        ("Il m'envoie des SMS malveillants toutes les nuits", "malicious_messages"),
        ("des appels anonymes à répétition au cabinet", "malicious_messages"),
        ("il m'appelle sans arrêt la nuit", "malicious_messages"),
        ("une fausse vidéo de moi générée par IA circule sur TikTok", "deepfake"),
        ("un deepfake où je vante un complément alimentaire", "deepfake"),
        ("ils ont fait un montage vidéo avec mon visage", "deepfake"),
        ("une vidéo truquée de moi", "deepfake"),
    ],
)
def test_french_descriptions_reach_the_new_keys(text: str, offense: str) -> None:
    """The lexicon maps French descriptions to the new keys (S100, S102)."""
    assert offense in extract_facts(text, TODAY).offenses


@pytest.mark.parametrize(
    "text", ["il m'écrit tous les jours", "il donne une fausse image de moi", "un appel hier"]
)
def test_ordinary_words_do_not_reach_the_new_keys(text: str) -> None:
    """No new key from ordinary words (the lexicon leans towards no for legal qualifications)."""
    found = extract_facts(text, TODAY).offenses
    assert "malicious_messages" not in found and "deepfake" not in found
